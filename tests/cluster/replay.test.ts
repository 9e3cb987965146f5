// Replay protection of the cluster control channel, on the real parts in one process: a real
// InternalServer (Fastify on 127.0.0.1) serving EdgeService over a real mediasoup worker, the
// registry in a LocalCoordinator. A signed request captured on the private network and sent again
// is refused 401 naming the nonce header, and opens nothing; one signed for another node is refused
// there; one captured before the receiver restarted is refused by the new process; a signed flood
// is refused past the limit instead of growing the receiver's memory.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { InternalServer } from '../../server/cluster/InternalServer.js';
import { EdgeService } from '../../server/cluster/EdgeService.js';
import { LocalCoordinator } from '../../server/cluster/LocalCoordinator.js';
import { NonceLedger } from '../../server/cluster/NonceLedger.js';
import { newNonce, signedHeaders } from '../../server/cluster/nodeSignature.js';
import { freePort } from '../helpers/redisServer.js';
import { cleanupAfterEach, startTestSfu, type Cleanups } from '../helpers/testSfu.js';

const SECRET = 'a-cluster-secret-shared-by-every-node-0123456789';
const ROOM = 'lecture-500';
const log = pino({ level: 'silent' });
const cleanups = cleanupAfterEach();

/** An edge node `nodeId` on 127.0.0.1: its control listener and the edge service behind it, the home node-a registered. */
async function edgeNode(cleanups: Cleanups, nodeId: string, port = 0, nonceLimits?: { perSender: number; total: number }) {
  const sfu = await startTestSfu(cleanups);
  const coordinator = new LocalCoordinator({ country: 'DE', checkPlacement: true });
  const record = { signallingUrl: 'http://127.0.0.1:1', placement: { country: 'DE' }, capacity: 100, load: 0, draining: false, startedAt: Date.now() };
  await coordinator.register({ id: 'node-a', ...record }, 600_000);
  const service = new EdgeService(sfu, coordinator, { ip: '127.0.0.1', portMin: 42000, portMax: 42999 }, 100, log);
  const server = await InternalServer.start({ host: '127.0.0.1', port, nodeId, secret: SECRET, handlers: service.handlers(), logger: log, ...(nonceLimits ? { nonceLimits } : {}) });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    service.close();
    await server.close();
  };
  cleanups.push(close);
  /** Receive transports open on the node's worker (what "open subscriber" makes). */
  const transports = () => sfu.pool.live[0]!.senders.size;
  return { server, service, transports, close };
}

/** A request as node-a signs it for `to`, captured whole: it can be sent again byte for byte. */
function capture(to: string, method: string, body: object) {
  const path = `/internal/edge/${method}`;
  const text = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', ...signedHeaders(SECRET, { path, from: 'node-a', to, time: Date.now(), nonce: newNonce() }, text) };
  return (base: string) => fetch(`${base}${path}`, { method: 'POST', headers, body: text });
}

const messageOf = async (response: Response) => ((await response.json()) as { error: { message: string } }).error.message;

describe('the control channel refuses a replayed request', () => {
  it('accepts a signed "open subscriber" once; the same request sent again is a 401 naming x-lectern-nonce and opens nothing', async () => {
    const b = await edgeNode(cleanups, 'node-b');
    const send = capture('node-b', 'createTransport', { room: ROOM, subscriberId: 'carol', due: 2 });
    const first = await send(b.server.url);
    expect(first.status).toBe(200);
    expect(b.transports()).toBe(1);
    const again = await send(b.server.url);
    expect(again.status).toBe(401);
    expect(await messageOf(again)).toContain('x-lectern-nonce');
    expect(b.transports()).toBe(1);
    // A fresh request (new nonce) from the same node still works: only the copy is refused.
    const fresh = await capture('node-b', 'createTransport', { room: ROOM, subscriberId: 'dave', due: 2 })(b.server.url);
    expect(fresh.status).toBe(200);
    expect(b.transports()).toBe(2);
  });

  it('refuses at another node a request signed for node-b (401 naming x-lectern-to), opening nothing there', async () => {
    const [b, c] = await Promise.all([edgeNode(cleanups, 'node-b'), edgeNode(cleanups, 'node-c')]);
    const send = capture('node-b', 'createTransport', { room: ROOM, subscriberId: 'carol', due: 2 });
    expect((await send(b.server.url)).status).toBe(200);
    const elsewhere = await send(c.server.url);
    expect(elsewhere.status).toBe(401);
    expect(await messageOf(elsewhere)).toContain('x-lectern-to');
    expect(c.transports()).toBe(0);
  });

  it('refuses, after the receiver restarted inside the window, a request captured before (401 naming x-lectern-time)', async () => {
    const port = await freePort('127.0.0.1');
    const before = await edgeNode(cleanups, 'node-b', port);
    const send = capture('node-b', 'createTransport', { room: ROOM, subscriberId: 'carol', due: 2 });
    expect((await send(before.server.url)).status).toBe(200);
    await before.close();
    // The new process has an empty ledger: the nonce is unknown to it, the timestamp is not.
    await new Promise((r) => setTimeout(r, 5));
    const after = await edgeNode(cleanups, 'node-b', port);
    const replayed = await send(after.server.url);
    expect(replayed.status).toBe(401);
    expect(await messageOf(replayed)).toContain('x-lectern-time');
    expect(after.transports()).toBe(0);
    // Requests signed after the restart are served.
    expect((await capture('node-b', 'createTransport', { room: ROOM, subscriberId: 'dave', due: 2 })(after.server.url)).status).toBe(200);
  });

  it('refuses a signed flood past the limit (429 naming x-lectern-nonce) instead of remembering it', async () => {
    const b = await edgeNode(cleanups, 'node-b', 0, { perSender: 3, total: 10 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await capture('node-b', 'reserve', { room: ROOM })(b.server.url)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await capture('node-b', 'reserve', { room: ROOM })(b.server.url);
    expect(await messageOf(refused)).toContain('x-lectern-nonce');
  });
});

describe('NonceLedger', () => {
  it('forgets a nonce once its timestamp has left the window, so memory is bounded by the window', () => {
    const ledger = new NonceLedger({ windowMs: 30_000, perSender: 2, total: 3 });
    const t = 1_000_000;
    expect(ledger.admit('node-a', 'n1', t, t)).toBeUndefined();
    expect(ledger.admit('node-a', 'n1', t, t + 1)).toBe('replayed');
    expect(ledger.admit('node-a', 'n2', t, t)).toBeUndefined();
    expect(ledger.admit('node-a', 'n3', t, t)).toBe('flood');
    expect(ledger.admit('node-c', 'n4', t, t)).toBeUndefined();
    expect(ledger.admit('node-d', 'n5', t, t)).toBe('flood'); // the total
    expect(ledger.size).toBe(3);
    // Past the window: the old ones are gone (their timestamps refuse a replay now), new ones fit.
    expect(ledger.admit('node-a', 'n6', t + 30_001, t + 30_001)).toBeUndefined();
    expect(ledger.size).toBe(1);
  });
});
