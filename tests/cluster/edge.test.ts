// Rooms bigger than a node, with real processes: two Lectern nodes (server/main.ts, one mediasoup
// worker each) on 127.0.0.2 and .3, coordinated through a real redis-server, with werift WebRTC
// participants (real VP8 and Opus over ICE, DTLS and SRTP). The home node's share is small, so a
// later student receives on the edge node, through a PipeTransport pair with SRTP and RTX on both
// ends, read back from each node's mediasoup via GET /admin/cluster. The internal control channel
// refuses unsigned and malformed requests; the cluster refuses a join only when every in-country
// node is full; a node registered outside the country is never piped to.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, freePort, type TestRedis } from '../helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../helpers/clusterNode.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { BotParticipant } from '../../bench/lib/BotParticipant.js';
import { loadWerift } from '../../bench/lib/werift.js';
import { vp8Clip } from '../../bench/lib/vp8Clip.js';
import { newNonce, signedHeaders } from '../../server/cluster/nodeSignature.js';
import { audit, gatherInputs } from '../../audit/audit.js';
import { waitFor } from '../helpers/testSfu.js';

const ADMIN_TOKEN = 'edge-test-admin-token-long-enough-to-be-a-real-one';
const SECRET = 'a-cluster-secret-shared-by-every-node-0123456789';
const ROOM = 'lecture-500';

let redis: TestRedis;
let home: ClusterNodeProcess;
let edge: ClusterNodeProcess;
let edgeRpc: string;
const bots: BotParticipant[] = [];
const clients: SignallingClient[] = [];
const cleanups: (() => void)[] = [];
const extraNodes: ClusterNodeProcess[] = [];

type Registry = {
  nodes: { id: string }[];
  pipes?: { from: string; to: string; fromCountry: string; toCountry: string; srtp: { home: boolean; edge: boolean }; rtx: { home: boolean; edge: boolean }; tracks: number }[];
  refusedPipes?: { to: string; country: string; reason: string }[];
};

async function registry(node: ClusterNodeProcess): Promise<Registry> {
  const response = await fetch(`${node.url}/admin/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Registry;
}

let secretFile: string;
const auth = { adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] };

/** A node with the control channel on its (private) address; `capacitySubscribers` as an edge. */
const node = async (nodeId: string, address: string, zone: string, media: Record<string, unknown>, capacitySubscribers: number) => {
  const rpcPort = await freePort(address);
  const started = await startNode({
    nodeId,
    address,
    redisPort: redis.port,
    placement: { country: 'DE', region: 'eu-central-1', zone },
    media: { ...media, pipe: { portMin: 41000, portMax: 41999 } },
    // A bot's socket closing is a dropped connection: it has left once the (short) resume grace is over.
    config: { auth, signalling: { resumeGraceSeconds: 1 } },
    cluster: { internal: { host: address, port: rpcPort, secretFile, edgeSubscribers: capacitySubscribers } },
  });
  return { started, rpc: `http://${address}:${rpcPort}` };
};

beforeAll(async () => {
  redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'lectern-edge-'));
  secretFile = join(dir, 'cluster-secret');
  writeFileSync(secretFile, `${SECRET}\n`);
  // The home's share: 3 consumers (a publisher's 2 tracks to one student fit, a second student's 2
  // more do not; a publisher is not due its own tracks); nothing reserved, so the third participant is past it.
  const [a, b] = await Promise.all([
    node('node-a', '127.0.0.2', 'eu-central-1a', { capacity: { consumersPerWorker: 3, reservedForInstructors: 0, loadSampleMs: 60_000 } }, 0),
    node('node-b', '127.0.0.3', 'eu-central-1b', {}, 2),
  ]);
  home = a.started;
  edge = b.started;
  edgeRpc = b.rpc;
}, 90_000);

afterAll(async () => {
  for (const cleanup of cleanups) cleanup();
  await Promise.all(bots.map((b) => b.close().catch(() => undefined)));
  for (const client of clients) client.socket.terminate();
  await Promise.all([home, edge, ...extraNodes].filter(Boolean).map((n) => n.kill('SIGKILL')));
  await redis?.kill();
});

describe('the internal control channel', () => {
  const body = JSON.stringify({ room: ROOM });
  const signed = (path: string, text: string, secret = SECRET, node = 'node-a') => ({
    'content-type': 'application/json',
    ...signedHeaders(secret, { path, from: node, to: 'node-b', time: Date.now(), nonce: newNonce() }, text),
  });

  it('refuses a request without a signature, or signed with another secret (401 naming the header)', async () => {
    const bare = await fetch(`${edgeRpc}/internal/edge/reserve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: { message: string } }).error.message).toContain('x-lectern-node');
    const forged = await fetch(`${edgeRpc}/internal/edge/reserve`, { method: 'POST', headers: signed('/internal/edge/reserve', body, 'another-secret-of-the-same-length-0123456789'), body });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toContain('x-lectern-signature');
    // Altered after signing: the signature covers the exact body.
    const altered = await fetch(`${edgeRpc}/internal/edge/reserve`, { method: 'POST', headers: signed('/internal/edge/reserve', body), body: JSON.stringify({ room: 'other-room' }) });
    expect(altered.status).toBe(401);
  });

  it('refuses a signed request with an unknown key or a wrong type (400 naming the field)', async () => {
    const unknownKey = JSON.stringify({ room: ROOM, subscriberId: 'x', due: 2, extra: 1 });
    const a = await fetch(`${edgeRpc}/internal/edge/createTransport`, { method: 'POST', headers: signed('/internal/edge/createTransport', unknownKey), body: unknownKey });
    expect(a.status).toBe(400);
    expect(((await a.json()) as { error: { message: string } }).error.message).toContain('extra');
    const wrongType = JSON.stringify({ room: ROOM, consumerId: 'c', spatialLayer: 'high', temporalLayer: 0 });
    const b = await fetch(`${edgeRpc}/internal/edge/preferLayers`, { method: 'POST', headers: signed('/internal/edge/preferLayers', wrongType), body: wrongType });
    expect(b.status).toBe(400);
    expect(((await b.json()) as { error: { message: string } }).error.message).toContain('spatialLayer');
  });

  it('opens media only for a live node of the in-country registry, whoever holds the secret (403)', async () => {
    const text = JSON.stringify({ room: ROOM, subscriberId: 'someone', due: 2 });
    const response = await fetch(`${edgeRpc}/internal/edge/createTransport`, { method: 'POST', headers: signed('/internal/edge/createTransport', text, SECRET, 'node-q'), body: text });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('node-q');
  });

  it('is not served on the public listener', async () => {
    const response = await fetch(`${edge.url}/internal/edge/reserve`, { method: 'POST', headers: signed('/internal/edge/reserve', body), body });
    expect(response.status).toBe(404);
  });
});

describe('a room bigger than its home node', () => {
  it('puts a student past the home share on the edge node, where she receives the home publisher over an SRTP+RTX pipe; her microphone is heard at home', async () => {
    const werift = await loadWerift();
    const clip = vp8Clip(160, 90, 15, 2, 100);
    const join = async (name: string, options: { camera?: boolean; microphone?: boolean } = {}) => {
      const bot = await BotParticipant.join(werift, home.wsUrl, ROOM, name, clip, options);
      bots.push(bot);
      return bot;
    };
    const ada = await join('Ada');
    const bob = await join('Bob', { camera: false, microphone: false });
    await waitFor('bob to receive ada', () => bob.consumerCount >= 2);

    // A node registered outside the country, offering more edge room than node-b, at node-b's own
    // listener: were placement to use it, the pipe would open. It must be refused before.
    const raw = redis.client();
    cleanups.push(() => raw.disconnect());
    const foreign = { id: 'node-x', signallingUrl: 'http://127.0.0.9:1', privateAddress: '127.0.0.3', rpcPort: Number(new URL(edgeRpc).port), edgeRoom: 1000, placement: { country: 'SE', region: 'eu-north-1', zone: 'eu-north-1a' }, capacity: 500, load: 0, draining: false, startedAt: Date.now() };
    await raw.set('lectern:node:node-x', JSON.stringify(foreign), 'PX', 120_000);
    await raw.sadd('lectern:nodes', 'node-x');
    await waitFor('node-b to register edge room', async () => {
      const record = JSON.parse((await raw.get('lectern:node:node-b')) ?? '{}') as { edgeRoom?: number; rpcPort?: number };
      return record.edgeRoom === 2 && record.rpcPort !== undefined;
    });

    // Carol: the home is full, so she receives on node-b; she publishes her microphone at home.
    const carol = await join('Carol', { camera: false, microphone: true });
    await waitFor('carol to receive ada', () => carol.consumerCount >= 2);
    expect(await raw.smembers(`lectern:room:${ROOM}:forwarders`)).toEqual(['node-b']);
    expect(edge.log()).toContain('edge room opened for another node');

    // Real VP8 and Opus from ada (on node-a) arrive at carol (on node-b).
    await waitFor('video and audio at carol', () => {
      const c = carol.counts();
      return c.video.received > 30 && c.audio.received > 30;
    });
    // Carol's microphone, published at home, reaches ada and bob.
    await waitFor('carol heard at home', () => ada.consumerCount >= 1 && bob.consumerCount >= 3);
    await waitFor('carol audio at ada', () => ada.counts().audio.received > 30);

    // The pipe: SRTP and RTX on at both ends, both ends in DE; the foreign node refused.
    const view = await registry(home);
    expect(view.pipes).toEqual([{ from: 'node-a', to: 'node-b', fromCountry: 'DE', toCountry: 'DE', srtp: { home: true, edge: true }, rtx: { home: true, edge: true }, tracks: 2 }]);
    expect(view.refusedPipes?.map((r) => [r.to, r.country])).toEqual([['node-x', 'SE']]);
    // The audit of the live cluster: the pipe is a flow at the edge node, in DE; the refused pipe a high finding.
    const report = audit(await gatherInputs({ url: home.url, adminToken: ADMIN_TOKEN }));
    const pipeFlows = report.model.flows.filter((f) => f.label.startsWith('Media pipe'));
    expect(pipeFlows.map((f) => [f.label, f.location.country, f.encryption])).toEqual([['Media pipe node-a (DE) -> node-b (DE), 2 track(s)', 'DE', 'SRTP on both pipe ends, RTX on']]);
    expect(report.findings.filter((f) => f.rule === 'flow-outside-country' && f.title.startsWith('Media pipe'))).toEqual([]);
    expect(report.findings.find((f) => f.rule === 'pipe-refused-outside-country')).toMatchObject({ severity: 'high' });
    // The same audit with a pipe one end of which has no SRTP, and one to a node outside the country: both high.
    const inputs = await gatherInputs({ url: home.url, adminToken: ADMIN_TOKEN });
    const registryRead = inputs.cluster!.registry;
    const bad = { from: 'node-a', fromCountry: 'DE', srtp: { home: true, edge: true }, rtx: { home: true, edge: true }, tracks: 1 };
    const tampered = audit({
      ...inputs,
      cluster: { ...inputs.cluster!, registry: { ...registryRead, pipes: [{ ...bad, to: 'node-b', toCountry: 'DE', srtp: { home: true, edge: false } }, { ...bad, to: 'node-zz', toCountry: 'SE' }] } },
    });
    expect(tampered.findings.find((f) => f.rule === 'pipe-unencrypted')).toMatchObject({ severity: 'high' });
    expect(tampered.findings.find((f) => f.rule === 'flow-outside-country' && f.title.startsWith('Media pipe node-a (DE) -> node-zz (SE)'))).toMatchObject({ severity: 'high' });
    await raw.del('lectern:node:node-x');
    await raw.srem('lectern:nodes', 'node-x');

    // A new producer on the home node (dave publishes there; he too receives on the edge) reaches carol.
    const dave = await join('Dave', { camera: true, microphone: false });
    await waitFor('dave video at carol', () => carol.consumerCount >= 3);
    await waitFor('dave video flowing at carol', () => carol.consumerCounts().some((c) => c.kind === 'video' && c.producerId === dave.producers[0]?.id && c.received > 10));
    // Piped now: ada's two, dave's camera (for carol) and carol's microphone (for dave).
    expect((await registry(home)).pipes?.[0]?.tracks).toBe(4);

    // Every node is full now (home share used, edge took its 2): the next join is refused, clearly.
    const eve = await SignallingClient.connect(home.wsUrl);
    clients.push(eve);
    const refused = await eve.send('join', { room: ROOM, displayName: 'Eve' });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe('at_capacity');

    // The edge subscribers leave: the home closes its pipes to node-b.
    await carol.close();
    await dave.close();
    await waitFor('pipes closed', async () => ((await registry(home)).pipes ?? []).length === 0, 20_000);
    // ...and the directory no longer names node-b as the room's forwarder.
    await waitFor('forwarder dropped', async () => (await raw.smembers(`lectern:room:${ROOM}:forwarders`)).length === 0);
  }, 120_000);

  it('moves the subscribers of an edge node that dies back to the home node, telling them to start media over', async () => {
    // The home is still full (ada and bob); node-b has room again (its registry entry says so at its next heartbeat): frank receives there.
    const raw = redis.client();
    cleanups.push(() => raw.disconnect());
    await waitFor('node-b to offer its room again', async () => (JSON.parse((await raw.get('lectern:node:node-b')) ?? '{}') as { edgeRoom?: number }).edgeRoom === 2);
    const frank = await SignallingClient.connect(home.wsUrl);
    clients.push(frank);
    const joined = await frank.ok('join', { room: ROOM, displayName: 'Frank' });
    const recv = (await frank.ok('createTransport', { direction: 'recv' })) as { iceCandidates: { address: string }[] };
    // Transparent to the client: the home's signalling hands over the edge's ICE candidates.
    expect(new Set(recv.iceCandidates.map((c) => c.address))).toEqual(new Set(['127.0.0.3']));
    const reset = new Promise<{ reason: string }>((resolve) => frank.onNotification('mediaReset', resolve));
    await frank.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    await edge.kill('SIGKILL');
    const { reason } = await Promise.race([reset, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no mediaReset within 15 s')), 15_000))]);
    expect(reason).toContain('reconnecting');
    // Starting over, frank receives on the home node now (the only one left).
    const again = (await frank.ok('createTransport', { direction: 'recv' })) as { iceCandidates: { address: string }[] };
    expect(new Set(again.iceCandidates.map((c) => c.address))).toEqual(new Set(['127.0.0.2']));
  }, 60_000);

  it('drains an edge on SIGTERM: its subscriber is moved to another edge while it still answers, then it exits', async () => {
    const [c, d] = await Promise.all([node('node-c', '127.0.0.4', 'eu-central-1c', {}, 2), node('node-d', '127.0.0.5', 'eu-central-1a', {}, 2)]);
    extraNodes.push(c.started, d.started);
    const raw = redis.client();
    cleanups.push(() => raw.disconnect());
    const room = async (id: string) => (JSON.parse((await raw.get(`lectern:node:${id}`)) ?? '{}') as { edgeRoom?: number }).edgeRoom;
    await waitFor('both new edges to offer room', async () => (await room('node-c')) === 2 && (await room('node-d')) === 2);
    const grace = await SignallingClient.connect(home.wsUrl);
    clients.push(grace);
    const joined = await grace.ok('join', { room: ROOM, displayName: 'Grace' });
    const first = (await grace.ok('createTransport', { direction: 'recv' })) as { iceCandidates: { address: string }[] };
    const at = first.iceCandidates[0]!.address;
    expect(['127.0.0.4', '127.0.0.5']).toContain(at);
    const [draining, other] = at === '127.0.0.4' ? [c.started, '127.0.0.5'] : [d.started, '127.0.0.4'];
    const reset = new Promise<{ reason: string }>((resolve) => grace.onNotification('mediaReset', resolve));
    await grace.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    const signalled = Date.now();
    void draining.kill('SIGTERM');
    await Promise.race([reset, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no mediaReset within 10 s')), 10_000))]);
    // Told before the draining edge exits (it waits for its subscribers to go, up to drainSeconds).
    expect(draining.process.exitCode).toBeNull();
    const again = (await grace.ok('createTransport', { direction: 'recv' })) as { iceCandidates: { address: string }[] };
    expect(new Set(again.iceCandidates.map((x) => x.address))).toEqual(new Set([other]));
    expect((await draining.exited).code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);
  }, 90_000);
});
