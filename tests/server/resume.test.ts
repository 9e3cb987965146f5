// Coming back after a dropped connection, over real signalling (real mediasoup workers, real
// Fastify on 127.0.0.1): a participant is held for the grace window and a new connection with the
// resume secret takes them back, unseen by the others; past the window they have left. Also ICE
// restart, a media reset, and a room whose media worker is SIGKILLed moving to a live worker.
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { clientDtls, opusParameters, vp8Parameters } from '../helpers/media.js';
import { AUDIT_FILES } from '../../audit/log/index.js';
import { roomWorker } from '../helpers/faults.js';

// Short, so the expiry test is quick; every resume below happens well inside it.
const GRACE_SECONDS = 4;

const server = lecternForFile(
  { signalling: { resumeGraceSeconds: GRACE_SECONDS }, auth: { tokenSecret: 'resume-test-secret-at-least-32-bytes-long' } },
  { workers: 2 },
);
const connect = (): Promise<SignallingClient> => server.connect();

interface Person {
  client: SignallingClient;
  peerId: string;
  secret: string;
  caps: Record<string, unknown>;
  sendId: string;
  room: string;
}

/** Join; when admitted, create and connect both transports and say ready, as the browser does. */
async function enter(room: string, displayName: string, token?: string): Promise<Person> {
  const client = await connect();
  const joined = await client.ok('join', { room, displayName, ...(token ? { token } : {}) });
  const person: Person = {
    client,
    room,
    peerId: joined.peerId as string,
    secret: joined.resumeSecret as string,
    caps: joined.routerRtpCapabilities as Record<string, unknown>,
    sendId: '',
  };
  if (joined.admitted) await setUp(person);
  return person;
}

async function setUp(person: Person): Promise<void> {
  await setUpAgain(person);
  await person.client.ok('ready', { rtpCapabilities: person.caps });
}

/** Drop the connection without a goodbye, as a Wi-Fi blip does, and wait until the server saw it. */
async function drop(person: Person): Promise<void> {
  person.client.socket.terminate();
  await person.client.closed;
  await new Promise((resolve) => setTimeout(resolve, 100));
}

/** A new connection resuming `person`; returns the reply frame. */
async function resumeOn(person: Person, secret = person.secret) {
  const client = await connect();
  const reply = await client.send('resume', { room: person.room, peerId: person.peerId, secret });
  return { client, reply };
}

function auditActions(room: string): string[] {
  const file = joinPath(server.lectern.config.audit.dir, AUDIT_FILES.log);
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { action: string; subject: string })
    .filter((r) => r.subject === `room:${room}`)
    .map((r) => r.action);
}

describe('resume after a dropped connection', () => {
  it('takes the same participant back: no leave or join for the others, and what happened meanwhile is delivered', async () => {
    const ada = await enter('resume-101', 'Ada');
    const bob = await enter('resume-101', 'Bob');
    const mic = await ada.client.ok('produce', { transportId: ada.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    await bob.client.notification('consumerAdded', (d) => d.producerId === mic.producerId);
    await ada.client.ok('raiseHand', { raised: true });
    await bob.client.notification('handQueue', (d) => d.peerIds.includes(ada.peerId));

    // Presence goes out in batches: the batch announcing Bob to Ada carried whatever Bob was told.
    await ada.client.notification('peersJoined', (d) => d.peers.some((p) => p.id === bob.peerId));
    await bob.client.ok('setLowBandwidth', { enabled: false }); // a round trip: Bob has read that batch too
    const joinsSeen = bob.client.received('peersJoined').length;
    await drop(ada);
    // While Ada is away: Bob chats, starts a camera and raises his hand.
    await bob.client.ok('sendChat', { text: 'are you still there?' });
    const camera = await bob.client.ok('produce', { transportId: bob.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters() });
    await bob.client.ok('raiseHand', { raised: true });

    const { client, reply } = await resumeOn(ada);
    expect(reply).toMatchObject({ ok: true, data: { role: 'student', admitted: true } });
    const data = (reply as { data: { resumeSecret: string } }).data;
    expect(data.resumeSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(data.resumeSecret).not.toBe(ada.secret);
    // Held notifications came first, in order, on the new connection.
    expect(client.received('chatMessage').map((d) => d.message.text)).toEqual(['are you still there?']);
    expect(client.received('consumerAdded').map((d) => d.producerId)).toEqual([camera.producerId]);
    expect(client.received('handQueue').at(-1)).toEqual({ peerIds: [ada.peerId, bob.peerId] });
    // The resumed connection is Ada: her requests work, her producer is still there.
    await client.ok('pauseProducer', { producerId: mic.producerId as string });
    await bob.client.notification('consumerPaused');

    // Bob never saw Ada leave or come back, and never lost her track.
    expect(bob.client.received('peersLeft')).toEqual([]);
    expect(bob.client.received('peersJoined').slice(joinsSeen)).toEqual([]);
    expect(bob.client.received('consumerClosed')).toEqual([]);
    // ...and she is still there once the grace window has passed.
    await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 500));
    expect(bob.client.received('peersLeft')).toEqual([]);
    await client.ok('sendChat', { text: 'back' });
    await bob.client.notification('chatMessage', (d) => d.message.text === 'back' && d.message.from.id === ada.peerId);
    await expect.poll(() => auditActions('resume-101'), { timeout: 5000 }).toContain('peer.resumed');
    expect(auditActions('resume-101')).toContain('peer.detached');
  }, 30_000);

  it('refuses a wrong secret, an unknown participant, an unknown room and a used secret alike', async () => {
    const ada = await enter('resume-refused', 'Ada');
    await drop(ada);
    const wrong = await resumeOn(ada, 'b'.repeat(43));
    expect(wrong.reply).toMatchObject({ ok: false, error: { code: 'resume_failed' } });
    const unknownPeer = await (await connect()).send('resume', { room: 'resume-refused', peerId: 'no-such-peer', secret: ada.secret });
    expect(unknownPeer).toMatchObject({ ok: false, error: { code: 'resume_failed' } });
    const unknownRoom = await (await connect()).send('resume', { room: 'no-such-room', peerId: ada.peerId, secret: ada.secret });
    expect(unknownRoom).toMatchObject({ ok: false, error: { code: 'resume_failed' } });
    // The messages say the same thing: nothing to probe.
    const messages = new Set([wrong.reply, unknownPeer, unknownRoom].map((r) => (r.ok ? '' : r.error.message)));
    expect(messages.size).toBe(1);
    // Badly shaped requests are refused by the schema, naming the field.
    const short = await (await connect()).sendUnchecked('resume', { room: 'resume-refused', peerId: ada.peerId, secret: 'short' });
    expect(short).toMatchObject({ ok: false, error: { code: 'invalid_data', message: expect.stringContaining('/secret') } });
    const extra = await (await connect()).sendUnchecked('resume', { room: 'resume-refused', peerId: ada.peerId, secret: ada.secret, role: 'instructor' });
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid_data' } });

    // The right secret works once; the secret it replaced does not work again.
    const first = await resumeOn(ada);
    expect(first.reply).toMatchObject({ ok: true });
    first.client.socket.terminate();
    await first.client.closed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await resumeOn(ada)).reply).toMatchObject({ ok: false, error: { code: 'resume_failed' } });
    const next = (first.reply as { data: { resumeSecret: string } }).data.resumeSecret;
    expect((await resumeOn(ada, next)).reply).toMatchObject({ ok: true });
  });

  it('lets only one of two simultaneous resumes with the same secret through', async () => {
    const ada = await enter('resume-double', 'Ada');
    await drop(ada);
    const [one, two] = await Promise.all([connect(), connect()]);
    const replies = await Promise.all(
      [one, two].map((c) => c.send('resume', { room: ada.room, peerId: ada.peerId, secret: ada.secret })),
    );
    expect(replies.filter((r) => r.ok)).toHaveLength(1);
    expect(replies.filter((r) => !r.ok)).toMatchObject([{ error: { code: 'resume_failed' } }]);
  });

  it('takes over from a connection that is still open; closing the old one then changes nothing', async () => {
    const ada = await enter('resume-takeover', 'Ada');
    const bob = await enter('resume-takeover', 'Bob');
    const { client, reply } = await resumeOn(ada);
    expect(reply).toMatchObject({ ok: true });
    expect(await ada.client.closed).toMatchObject({ code: 4001 });
    await bob.client.ok('sendChat', { text: 'hello' });
    await client.notification('chatMessage', (d) => d.message.text === 'hello');
    expect(ada.client.received('chatMessage')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 500));
    expect(bob.client.received('peersLeft')).toEqual([]);
    expect(await client.send('raiseHand', { raised: true })).toMatchObject({ ok: true });
  }, 20_000);

  it('keeps a waiting participant in the lobby, and the admission made meanwhile reaches them', async () => {
    const teacherToken = await server.lectern.authenticator.issueRoomToken({ room: 'resume-lobby', role: 'instructor', subject: 'teacher@uni.example' });
    const studentToken = await server.lectern.authenticator.issueRoomToken({ room: 'resume-lobby', role: 'student', subject: 'ann@uni.example' });
    const teacher = await enter('resume-lobby', 'Teacher', teacherToken);
    await teacher.client.ok('setRoomPolicy', { lobby: true });
    const ann = await enter('resume-lobby', 'Ann', studentToken);
    await teacher.client.notification('lobbyChanged', (d) => d.waiting.some((w) => w.id === ann.peerId));
    await drop(ann);
    // Still waiting, not gone: the teacher's lobby list did not change.
    expect(teacher.client.received('lobbyChanged').at(-1)?.waiting.map((w) => w.id)).toEqual([ann.peerId]);
    await teacher.client.ok('admit', { peerId: ann.peerId });
    const { client, reply } = await resumeOn(ann);
    expect(reply).toMatchObject({ ok: true, data: { role: 'student', admitted: true } });
    await client.notification('admitted');
  });

  it('lets the participant go once the grace window has passed: the others see them leave', async () => {
    const ada = await enter('resume-expired', 'Ada');
    const bob = await enter('resume-expired', 'Bob');
    const started = Date.now();
    await drop(ada);
    await expect.poll(() => bob.client.received('peersLeft').flatMap((d) => d.peerIds), { timeout: (GRACE_SECONDS + 5) * 1000 }).toContain(ada.peerId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000);
    expect((await resumeOn(ada)).reply).toMatchObject({ ok: false, error: { code: 'resume_failed' } });
  }, 20_000);

  it('still lets a participant leave at once with leave', async () => {
    const ada = await enter('resume-leave', 'Ada');
    const bob = await enter('resume-leave', 'Bob');
    await ada.client.ok('leave', {});
    await expect.poll(() => bob.client.received('peersLeft').flatMap((d) => d.peerIds), { timeout: 1000 }).toContain(ada.peerId);
    expect((await resumeOn(ada)).reply).toMatchObject({ ok: false, error: { code: 'resume_failed' } });
  });
});

describe('media recovery', () => {
  it('restartIce gives a transport new ICE credentials', async () => {
    const ada = await enter('ice-101', 'Ada');
    const before = await ada.client.ok('restartIce', { transportId: ada.sendId });
    const after = await ada.client.ok('restartIce', { transportId: ada.sendId });
    const frag = (r: Record<string, unknown>) => (r.iceParameters as { usernameFragment: string }).usernameFragment;
    expect(frag(before)).toMatch(/\S+/);
    expect(frag(after)).not.toBe(frag(before));
    expect(await ada.client.send('restartIce', { transportId: 'not-mine' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('resetMedia ends my tracks for the others without my leaving; new transports bring everything back', async () => {
    const ada = await enter('reset-101', 'Ada');
    const bob = await enter('reset-101', 'Bob');
    const bobMic = await bob.client.ok('produce', { transportId: bob.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    const adaMic = await ada.client.ok('produce', { transportId: ada.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(33_333_333) });
    const bobsConsumer = await bob.client.notification('consumerAdded', (d) => d.producerId === adaMic.producerId);
    await ada.client.notification('consumerAdded', (d) => d.producerId === bobMic.producerId);

    await ada.client.ok('resetMedia', {});
    await bob.client.notification('consumerClosed', (d) => d.consumerId === bobsConsumer.consumerId);
    const consumersBefore = ada.client.received('consumerAdded').length;
    await setUpAgain(ada);
    // The new receive transport brought Bob's microphone back; Ada's new track reaches Bob.
    await expect
      .poll(() => ada.client.received('consumerAdded').slice(consumersBefore).map((d) => d.producerId), { timeout: 5000 })
      .toEqual([bobMic.producerId]);
    const again = await ada.client.ok('produce', { transportId: ada.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(44_444_444) });
    await bob.client.notification('consumerAdded', (d) => d.producerId === again.producerId);
    expect(bob.client.received('peersLeft')).toEqual([]);
  });

  it('moves a room whose media worker was SIGKILLed to a live worker: nobody leaves, everyone is told to reset media', async () => {
    const ada = await enter('crash-101', 'Ada');
    const bob = await enter('crash-101', 'Bob');
    await bob.client.ok('produce', { transportId: bob.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    await ada.client.notification('consumerAdded');
    const worker = roomWorker('crash-101')!;
    process.kill(worker.pid, 'SIGKILL');

    for (const person of [ada, bob]) await expect.poll(() => person.client.received('mediaReset'), { timeout: 10_000 }).toHaveLength(1);
    expect(ada.client.received('roomClosed')).toEqual([]);
    expect(roomWorker('crash-101')).not.toBe(worker);
    expect(roomWorker('crash-101')!.died).toBe(false);
    // Media starts over on the new worker: new transports, a track sent again reaches the other.
    await setUpAgain(ada);
    await setUpAgain(bob);
    const mic = await bob.client.ok('produce', { transportId: bob.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    await ada.client.notification('consumerAdded', (d) => d.producerId === mic.producerId);
    expect([...ada.client.received('peersLeft'), ...bob.client.received('peersLeft')]).toEqual([]);
    await expect.poll(() => auditActions('crash-101'), { timeout: 5000 }).toContain('room.mediaMoved');
  }, 30_000);
});

/** New transports, connected: on joining (then ready), and after a media reset, as the browser's full reconnect does. */
async function setUpAgain(person: Person): Promise<void> {
  const send = await person.client.ok('createTransport', { direction: 'send' });
  const recv = await person.client.ok('createTransport', { direction: 'recv' });
  await person.client.ok('connectTransport', { transportId: send.id as string, dtlsParameters: clientDtls });
  await person.client.ok('connectTransport', { transportId: recv.id as string, dtlsParameters: clientDtls });
  person.sendId = send.id as string;
}
