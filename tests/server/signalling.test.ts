// Signalling against a real server: real mediasoup worker, real Fastify on 127.0.0.1, real WebSocket.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { clientDtls, opusParameters, vp8Parameters } from '../helpers/media.js';
import { mediasoupConsumer } from '../helpers/mediasoupLookup.js';

// A short resume grace window: a dropped connection's participant leaves after 1 s, not 30.
const server = lecternForFile({ signalling: { maxFrameBytes: 4096, maxInvalidFrames: 8, maxRequestsPerSecond: 40, resumeGraceSeconds: 1 } });
const connect = (): Promise<SignallingClient> => server.connect();

/** Join, create both transports and connect them, as the browser client does before saying ready. */
async function joinConnected(room: string, displayName: string) {
  const client = await connect();
  const joined = await client.ok('join', { room, displayName });
  const send = await client.ok('createTransport', { direction: 'send' });
  const recv = await client.ok('createTransport', { direction: 'recv' });
  await client.ok('connectTransport', { transportId: send.id as string, dtlsParameters: clientDtls });
  await client.ok('connectTransport', { transportId: recv.id as string, dtlsParameters: clientDtls });
  const ready = async () => (await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> })).peers as { id: string; displayName: string }[];
  return { client, peerId: joined.peerId as string, sendId: send.id as string, recvId: recv.id as string, ready };
}

/** Join, create both transports, connect them, and say ready, as the browser client does. */
async function joinReady(room: string, displayName: string) {
  const { ready, ...person } = await joinConnected(room, displayName);
  return { ...person, peers: await ready() };
}

async function healthy(): Promise<boolean> {
  const response = await fetch(`${server.lectern.url}/healthz`);
  return response.status === 200;
}

describe('joining and media', () => {
  it('answers join with the router capabilities and no ICE servers by default', async () => {
    const client = await connect();
    const joined = await client.ok('join', { room: 'caps', displayName: 'Ada' });
    const caps = joined.routerRtpCapabilities as { codecs: { mimeType: string }[] };
    const mimeTypes = caps.codecs.map((c) => c.mimeType);
    expect(mimeTypes).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8', 'video/H264']));
    expect(joined.iceServers).toEqual([]);
    expect(joined.iceTransportPolicy).toBe('all');
    const transport = await client.ok('createTransport', { direction: 'recv' });
    const candidates = transport.iceCandidates as { address: string; protocol: string; port: number }[];
    expect(candidates.map((c) => c.address)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(new Set(candidates.map((c) => c.protocol))).toEqual(new Set(['udp', 'tcp']));
    // Every transport on a worker shares its WebRtcServer's port: the firewall opens one port per core.
    const second = await client.ok('createTransport', { direction: 'send' });
    const secondPorts = (second.iceCandidates as { port: number }[]).map((c) => c.port);
    expect(secondPorts).toEqual(candidates.map((c) => c.port));
  });

  it('tells peers about each other, forwards new tracks as paused consumers, and cleans up on leave', async () => {
    const ada = await joinReady('physics', 'Ada');
    expect(ada.peers).toEqual([]);
    const bob = await joinReady('physics', 'Bob');
    expect(bob.peers.map((p) => p.displayName)).toEqual(['Ada']);
    const joinedNote = await ada.client.notification('peersJoined');
    expect(joinedNote.peers).toMatchObject([{ id: bob.peerId, displayName: 'Bob', producers: [] }]);

    const audio = await ada.client.ok('produce', { transportId: ada.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    const added = await bob.client.notification('consumerAdded', (d) => d.producerId === audio.producerId);
    expect(added).toMatchObject({ peerId: ada.peerId, kind: 'audio', source: 'microphone', producerPaused: false });
    // Paused in the worker until the client says its side is set up, then flowing.
    expect(mediasoupConsumer(added.consumerId)?.paused).toBe(true);
    await bob.client.ok('resumeConsumer', { consumerId: added.consumerId });
    expect(mediasoupConsumer(added.consumerId)?.paused).toBe(false);

    // A late joiner receives tracks that already exist.
    const cleo = await joinReady('physics', 'Cleo');
    expect(cleo.peers.map((p) => p.displayName).sort()).toEqual(['Ada', 'Bob']);
    expect(cleo.peers.find((p) => p.id === ada.peerId)).toMatchObject({ producers: [{ kind: 'audio', source: 'microphone', paused: false }] });
    const cleoAdded = await cleo.client.notification('consumerAdded', (d) => d.producerId === audio.producerId);
    expect(mediasoupConsumer(cleoAdded.consumerId)?.paused).toBe(true);

    // Mute reaches every receiver.
    await ada.client.ok('pauseProducer', { producerId: audio.producerId as string });
    await bob.client.notification('consumerPaused', (d) => d.consumerId === added.consumerId);
    await ada.client.ok('resumeProducer', { producerId: audio.producerId as string });
    await bob.client.notification('consumerResumed', (d) => d.consumerId === added.consumerId);

    // Leaving closes the consumers of the leaver's tracks and removes them from everyone's list.
    await ada.client.ok('leave', {});
    await bob.client.notification('consumerClosed', (d) => d.consumerId === added.consumerId);
    expect(mediasoupConsumer(added.consumerId)).toBeUndefined();
    expect(await bob.client.notification('peersLeft')).toEqual({ peerIds: [ada.peerId] });
    expect(await cleo.client.notification('peersLeft')).toEqual({ peerIds: [ada.peerId] });
    expect(server.lectern.app.server.listening).toBe(true);
  });

  it('gives a late joiner every existing track, video before audio, so the first picture comes first', async () => {
    // Each sends microphone first, then camera, as the browser client does.
    for (const [name, base] of [['Ada', 1000], ['Bob', 2000]] as const) {
      const sender = await joinReady('first-picture', name);
      await sender.client.ok('produce', { transportId: sender.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(base + 1) });
      await sender.client.ok('produce', { transportId: sender.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(base + 2) });
    }
    const dan = await joinReady('first-picture', 'Dan');
    const addedKinds = () => dan.client.received('consumerAdded').map((d) => d.kind);
    await expect.poll(() => addedKinds().length, { timeout: 5000 }).toBe(4);
    expect(addedKinds()).toEqual(['video', 'video', 'audio', 'audio']);
  });

  it('sends the tracks of someone who produced before saying ready to those who became ready meanwhile, once', async () => {
    const ada = await connect();
    await ada.ok('join', { room: 'early-sender', displayName: 'Ada' });
    const send = await ada.ok('createTransport', { direction: 'send' });
    await ada.ok('connectTransport', { transportId: send.id as string, dtlsParameters: clientDtls });
    const mic = await ada.ok('produce', { transportId: send.id as string, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(4001) });
    // Bob becomes ready after Ada produced and before Ada is ready.
    const bob = await joinReady('early-sender', 'Bob');
    await bob.client.notification('consumerAdded', (d) => d.producerId === mic.producerId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const added = bob.client.received('consumerAdded');
    expect(added).toHaveLength(1);
  });

  it('refuses a second track of the same source and a track on a receive transport', async () => {
    const ada = await joinReady('sources', 'Ada');
    await ada.client.ok('produce', { transportId: ada.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters() });
    const again = await ada.client.send('produce', { transportId: ada.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(333) });
    expect(again).toMatchObject({ ok: false, error: { code: 'media_rejected' } });
    const wrongKind = await ada.client.send('produce', { transportId: ada.sendId, kind: 'audio', source: 'camera', rtpParameters: opusParameters() });
    expect(wrongKind).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    const onRecv = await ada.client.send('produce', { transportId: ada.recvId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    expect(onRecv).toMatchObject({ ok: false, error: { code: 'media_rejected' } });
    const garbage = await ada.client.send('produce', { transportId: ada.sendId, kind: 'audio', source: 'microphone', rtpParameters: { codecs: 'nope' } });
    expect(garbage).toMatchObject({ ok: false, error: { code: 'media_rejected' } });
  });

  it('tells the others when a connection drops without saying goodbye (once the resume grace window passed)', async () => {
    const ada = await joinReady('drops', 'Ada');
    const bob = await joinReady('drops', 'Bob');
    bob.client.socket.terminate();
    expect(await ada.client.notification('peersLeft')).toEqual({ peerIds: [bob.peerId] });
  });
});

describe('bad input', () => {
  it('answers garbage, oversized, binary and malformed frames with clear errors and keeps serving', async () => {
    const bystander = await joinReady('robust', 'Bystander');
    const client = await connect();
    const errors: unknown[] = [];
    const next = () => client.waitFor((f) => f.kind === 'response' && f.ok === false).then((f) => errors.push(f));

    let wait = next();
    client.sendRaw('this is not json');
    await wait;
    wait = next();
    client.sendRaw(JSON.stringify({ kind: 'request', id: 1, method: 'join', data: { room: 'x', displayName: 'y' }, pad: 'x'.repeat(5000) }));
    await wait;
    wait = next();
    client.sendRaw(Buffer.from([1, 2, 3]), true);
    await wait;
    wait = next();
    client.sendRaw(JSON.stringify([1, 2, 3]));
    await wait;
    expect(errors).toEqual([
      { kind: 'response', id: null, ok: false, error: { code: 'bad_frame', message: 'frame is not valid JSON' } },
      { kind: 'response', id: null, ok: false, error: { code: 'frame_too_large', message: 'frames are limited to 4096 bytes' } },
      { kind: 'response', id: null, ok: false, error: { code: 'bad_frame', message: 'binary frames are not part of the protocol' } },
      expect.objectContaining({ id: null, error: expect.objectContaining({ code: 'bad_frame' }) }),
    ]);

    expect(await client.sendUnchecked('summonDragons', {})).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    // A valid frame resets the invalid-frame count; the connection is still usable.
    const joined = await client.sendUnchecked('join', { room: 'robust', displayName: '' });
    expect(joined).toMatchObject({ ok: false, error: { code: 'invalid_data', message: expect.stringContaining('/displayName') } });
    expect(await client.send('join', { room: 'robust', displayName: 'Still here' })).toMatchObject({ ok: true });
    expect(bystander.client.socket.readyState).toBe(bystander.client.socket.OPEN);
    expect(await healthy()).toBe(true);
  });

  it('refuses out-of-order requests with the reason', async () => {
    const client = await connect();
    expect(await client.send('produce', { transportId: 't', kind: 'audio', source: 'microphone', rtpParameters: opusParameters() })).toMatchObject({
      ok: false,
      error: { code: 'not_joined' },
    });
    expect(await client.send('ready', { rtpCapabilities: {} })).toMatchObject({ ok: false, error: { code: 'not_joined' } });
    await client.ok('join', { room: 'order', displayName: 'Ada' });
    expect(await client.send('ready', { rtpCapabilities: {} })).toMatchObject({ ok: false, error: { code: 'not_ready' } });
    expect(await client.send('join', { room: 'order', displayName: 'Ada' })).toMatchObject({ ok: false, error: { code: 'already_joined' } });
    expect(await client.send('resumeConsumer', { consumerId: 'nope' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await client.send('connectTransport', { transportId: 'nope', dtlsParameters: clientDtls })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('two join frames sent at once leave exactly one participant', async () => {
    const peers = async () => ((await (await fetch(`${server.lectern.url}/healthz`)).json()) as { peers: number }).peers;
    const before = await peers();
    const client = await connect();
    const [first, second] = await Promise.all([
      client.send('join', { room: 'double', displayName: 'Twice' }),
      client.send('join', { room: 'double', displayName: 'Twice' }),
    ]);
    expect([first.ok, second.ok].sort()).toEqual([false, true]);
    expect([first, second].find((r) => !r.ok)).toMatchObject({ error: { code: 'already_joined' } });
    expect(await peers()).toBe(before + 1);
    client.close();
    // Gone once the resume grace window (1 s here) has passed.
    await expect.poll(peers, { timeout: 5000 }).toBe(before);
  });

  it('refuses the socket to a page from another origin, before the upgrade', async () => {
    const attempt = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(server.lectern.wsUrl, { headers: { origin } });
        socket.once('open', () => {
          socket.close();
          resolve(101);
        });
        socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.once('error', reject);
      });
    expect(await attempt('http://evil.example')).toBe(403);
    expect(await attempt(new URL(server.lectern.url).origin)).toBe(101);
  });

  it('caps transports per participant even when they are all requested at once', async () => {
    const client = await connect();
    await client.ok('join', { room: 'transports', displayName: 'Greedy' });
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => client.send('createTransport', { direction: i % 2 ? 'recv' : 'send' })));
    expect(replies.filter((r) => r.ok)).toHaveLength(4);
    for (const refused of replies.filter((r) => !r.ok)) expect(refused).toMatchObject({ error: { code: 'media_rejected' } });
  });

  it("cannot touch another participant's media by id", async () => {
    const ada = await joinReady('ids', 'Ada');
    const mallory = await joinReady('ids', 'Mallory');
    const audio = await ada.client.ok('produce', { transportId: ada.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    expect(await mallory.client.send('pauseProducer', { producerId: audio.producerId as string })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await mallory.client.send('closeProducer', { producerId: audio.producerId as string })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await mallory.client.send('produce', { transportId: ada.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters() })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });

  it('closes a connection that keeps sending junk, without disturbing anyone else', async () => {
    const bystander = await joinReady('junk', 'Bystander');
    const client = await connect();
    for (let i = 0; i < 8; i++) client.sendRaw('{');
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    const other = await joinReady('junk', 'Other');
    expect(await bystander.client.notification('peersJoined')).toMatchObject({ peers: [{ id: other.peerId, displayName: 'Other' }] });
  });

  it('rate-limits a connection that floods requests', async () => {
    const client = await connect();
    const replies = await Promise.all(Array.from({ length: 60 }, () => client.sendUnchecked('leave', {})));
    const limited = replies.filter((r) => !r.ok && r.error.code === 'rate_limited').length;
    expect(limited).toBeGreaterThanOrEqual(15);
    expect(replies.filter((r) => !r.ok && r.error.code === 'not_joined').length).toBeGreaterThan(0);
  });
});

describe('presence at scale', () => {
  it('batches a join storm: each participant gets a handful of presence messages, not one per newcomer', async () => {
    // Thirty students open the link at once: all join and set up together, then all enter the
    // class (ready) in one burst. Without batching, whoever entered first would be told about
    // each of the 29 others in a frame of its own.
    const connected = await Promise.all(Array.from({ length: 30 }, (_, i) => joinConnected('storm', `Student ${i}`)));
    const people = await Promise.all(connected.map(async ({ ready, ...person }) => ({ ...person, peers: await ready() })));
    const ids = new Set(people.map((p) => p.peerId));
    // Everyone ends up knowing everyone else...
    for (const person of people) {
      await expect
        .poll(() => {
          const known = new Set<string>(person.peers.map((p) => p.id));
          for (const d of person.client.received('peersJoined')) for (const p of d.peers) known.add(p.id);
          return [...ids].filter((id) => id !== person.peerId && !known.has(id)).length;
        })
        .toBe(0);
    }
    // ...each from at most a few presence frames: one per batch window the burst spanned.
    const frames = people.map((p) => p.client.received('peersJoined').length);
    const total = frames.reduce((a, b) => a + b, 0);
    console.log(`presence: 30 joins -> peersJoined frames per participant ${JSON.stringify(frames)}, ${total} in all (one per newcomer would be ${(30 * 29) / 2})`);
    for (const [i, count] of frames.entries()) expect(count, `Student ${i}`).toBeLessThanOrEqual(3);
  });
});
