// Lectern as a cluster of real node processes (server/main.ts, one mediasoup worker each) on
// 127.0.0.2-4, coordinated through a real redis-server started here. One owner per room with a
// redirect; room creation under a lock; a foreign placement refused; SIGTERM drains; a SIGKILLed
// node is dropped after its TTL and its class opens on a live node; metrics parse as Prometheus
// text and name no room or person; Redis killed mid-class leaves the class running, health degraded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../helpers/clusterNode.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { parsePrometheusText } from '../helpers/prometheusText.js';

let redis: TestRedis;
let a: ClusterNodeProcess;
let b: ClusterNodeProcess;
let c: ClusterNodeProcess;
const clients: SignallingClient[] = [];

const TTL_SECONDS = 2;

beforeAll(async () => {
  redis = await startRedis();
  [a, b, c] = await Promise.all([
    startNode({ nodeId: 'node-a', address: '127.0.0.2', redisPort: redis.port }),
    startNode({ nodeId: 'node-b', address: '127.0.0.3', redisPort: redis.port, placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1b' } }),
    startNode({ nodeId: 'node-c', address: '127.0.0.4', redisPort: redis.port, placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1c' } }),
  ]);
}, 90_000);

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await Promise.all([a, b, c].filter(Boolean).map((n) => n.kill('SIGKILL')));
  await redis?.kill();
});

async function connect(node: ClusterNodeProcess): Promise<SignallingClient> {
  const client = await SignallingClient.connect(node.wsUrl);
  clients.push(client);
  return client;
}

async function health(node: ClusterNodeProcess): Promise<{ code: number; body: Record<string, unknown> }> {
  const response = await fetch(`${node.url}/healthz`);
  return { code: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Join on `node`, following a `moved` redirect as the browser does; returns where it joined. */
async function joinFollowing(node: ClusterNodeProcess, room: string, displayName: string, nodes: ClusterNodeProcess[]) {
  let client = await connect(node);
  let reply = await client.send('join', { room, displayName });
  let redirected: string | undefined;
  if (!reply.ok && reply.error.code === 'moved') {
    redirected = reply.error.redirect;
    const home = nodes.find((n) => n.url === redirected);
    if (!home) throw new Error(`redirected to an unknown node ${redirected}`);
    client.close();
    client = await connect(home);
    reply = await client.send('join', { room, displayName });
  }
  return { client, reply, redirected };
}

describe('a cluster of three nodes', () => {
  it('registers every node with its addresses and placement, with a TTL', async () => {
    const raw = redis.client();
    expect((await raw.smembers('lectern:nodes')).sort()).toEqual(['node-a', 'node-b', 'node-c']);
    const record = JSON.parse((await raw.get('lectern:node:node-b'))!) as Record<string, unknown>;
    expect(record).toMatchObject({ id: 'node-b', signallingUrl: b.url, placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1b' }, draining: false });
    const ttl = await raw.pttl('lectern:node:node-b');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL_SECONDS * 1000);
    raw.disconnect();
    expect((await health(a)).body).toMatchObject({ status: 'ok', cluster: 'ok' });
  });

  it('sends a participant who reaches another node to the room home node, where she joins the same class', async () => {
    const first = await connect(a);
    expect((await first.send('join', { room: 'algebra-101', displayName: 'Ada' })).ok).toBe(true);
    const second = await connect(b);
    const refused = await second.send('join', { room: 'algebra-101', displayName: 'Grace' });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('moved');
    expect(refused.error.redirect).toBe(a.url);
    // Nothing of the class was opened on the wrong node.
    expect((await health(b)).body).toMatchObject({ rooms: 0, peers: 0 });
    const followed = await joinFollowing(b, 'algebra-101', 'Grace', [a, b, c]);
    expect(followed.reply.ok).toBe(true);
    expect(followed.redirected).toBe(a.url);
    expect((await health(a)).body).toMatchObject({ rooms: 1, peers: 2 });
  });

  it('opens a new class on exactly one node when two nodes are asked at the same moment (the lock)', async () => {
    const [onB, onC] = await Promise.all([connect(b), connect(c)]);
    const replies = await Promise.all([onB.send('join', { room: 'race-room', displayName: 'B' }), onC.send('join', { room: 'race-room', displayName: 'C' })]);
    const ok = replies.filter((r) => r.ok);
    const moved = replies.filter((r) => !r.ok && r.error.code === 'moved');
    expect(ok).toHaveLength(1);
    expect(moved).toHaveLength(1);
    const raw = redis.client();
    const home = await raw.get('lectern:room:race-room');
    raw.disconnect();
    const winner = replies[0]!.ok ? b : c;
    expect(home).toBe(winner.nodeId);
    const loser = moved[0]!;
    if (!loser.ok) expect(loser.error.redirect).toBe(winner.url);
  });

  it('serves Prometheus metrics on its own listener that parse and name no room or person', async () => {
    const response = await fetch(`${a.metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const families = parsePrometheusText(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const name of ['lectern_rooms', 'lectern_participants', 'lectern_media_workers', 'lectern_consumers', 'lectern_node_load', 'lectern_join_duration_seconds']) {
      expect(byName.has(name), name).toBe(true);
    }
    // The parser strips _total from counter family names.
    for (const name of ['lectern_forwarded_packets', 'lectern_forwarded_bytes', 'lectern_media_worker_restarts', 'lectern_admission_refusals']) {
      expect(byName.get(name)?.type, name).toBe('counter');
    }
    expect(byName.get('lectern_rooms')!.samples[0]!.value).toBe(1);
    expect(byName.get('lectern_participants')!.samples[0]!.value).toBe(2);
    expect(byName.get('lectern_media_workers')!.samples[0]!.value).toBe(1);
    const joins = byName.get('lectern_join_duration_seconds')!.samples.find((s) => s.name === 'lectern_join_duration_seconds_count');
    expect(joins?.value).toBe(2);
    // The load placement uses: 2 participants of 500.
    expect(byName.get('lectern_node_load')!.samples[0]!.value).toBeCloseTo(2 / 500);
    // No personal data and no room names, anywhere in the text (labels, help, values).
    for (const secret of ['algebra-101', 'race-room', 'Ada', 'Grace']) expect(text).not.toContain(secret);
    for (const family of families) for (const sample of family.samples) expect(Object.keys(sample.labels).filter((l) => l !== 'le' && l !== 'reason')).toEqual([]);
    // The public server does not serve them.
    expect((await fetch(`${a.url}/metrics`)).status).toBe(404);
  });

  it('refuses a node placed outside the country: it never registers', async () => {
    const foreign = await startNode({ nodeId: 'node-se', address: '127.0.0.5', redisPort: redis.port, placement: { country: 'SE', region: 'eu-north-1' } });
    const exit = await foreign.exited;
    expect(exit.code).not.toBe(0);
    expect(foreign.log()).toMatch(/placed in SE, outside the deployment's country DE/);
    // Says Germany, runs in Stockholm.
    const lying = await startNode({ nodeId: 'node-liar', address: '127.0.0.5', redisPort: redis.port, placement: { country: 'DE', region: 'eu-north-1' } });
    expect((await lying.exited).code).not.toBe(0);
    const raw = redis.client();
    expect((await raw.smembers('lectern:nodes')).sort()).toEqual(['node-a', 'node-b', 'node-c']);
    raw.disconnect();
  }, 60_000);

  it('drains on SIGTERM: participants are told to join again, the class opens on a live node, the node exits', async () => {
    const staying = await connect(c);
    expect((await staying.send('join', { room: 'drain-room', displayName: 'Dora' })).ok).toBe(true);
    const told = staying.notification('serverDraining');
    c.process.kill('SIGTERM');
    await told;
    // Health says so (503: a load balancer sends nobody new).
    const during = await health(c);
    expect(during.code).toBe(503);
    expect(during.body.cluster).toBe('draining');
    // A join reaching the draining node is sent to a live one, which opens the class.
    const again = await joinFollowing(c, 'drain-room', 'Dora', [a, b, c]);
    expect(again.reply.ok).toBe(true);
    expect([a.url, b.url]).toContain(again.redirected);
    const exit = await c.exited;
    expect(exit.code).toBe(0);
  }, 30_000);

  it('drops a SIGKILLed node after its TTL; its class opens on a live node and its participant gets back in', async () => {
    const lost = await connect(b);
    const joined = await lost.ok('join', { room: 'kill-room', displayName: 'Kim' });
    const killedAt = Date.now();
    await b.kill('SIGKILL');
    await lost.closed;
    // The browser's path: resume on a node that does not know her, then join again.
    const back = await connect(a);
    const resumed = await back.send('resume', { room: 'kill-room', peerId: joined.peerId as string, secret: joined.resumeSecret as string });
    expect(!resumed.ok && resumed.error.code).toBe('resume_failed');
    // Until the TTL passes the dead node is still the home; a join is sent to it or refused, and
    // the client tries again, as the browser's reconnect does.
    let reply = await back.send('join', { room: 'kill-room', displayName: 'Kim' });
    while (!reply.ok && Date.now() - killedAt < 20_000) {
      expect(['moved', 'unavailable']).toContain(reply.error.code);
      await new Promise((r) => setTimeout(r, 200));
      reply = await back.send('join', { room: 'kill-room', displayName: 'Kim' });
    }
    expect(reply.ok).toBe(true);
    const elapsed = Date.now() - killedAt;
    // Not before the TTL: a node is dropped only once it has missed its heartbeats.
    expect(elapsed).toBeGreaterThanOrEqual(TTL_SECONDS * 1000 - 600);
    console.log(`failover: joined on a live node ${elapsed} ms after SIGKILL (TTL ${TTL_SECONDS} s)`);
    const raw = redis.client();
    expect(await raw.get('lectern:room:kill-room')).toBe('node-a');
    expect(await raw.sismember('lectern:nodes', 'node-b')).toBe(0);
    raw.disconnect();
  }, 30_000);

  it('keeps the class going when Redis dies; health says degraded; new classes are refused, the open one takes joins', async () => {
    const before = await health(a);
    expect(before.body.peers).toBeGreaterThanOrEqual(2);
    await redis.kill();
    const deadline = Date.now() + 10_000;
    let now = await health(a);
    while (now.body.status !== 'degraded' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = await health(a);
    }
    expect(now.code).toBe(200);
    expect(now.body).toMatchObject({ status: 'degraded', cluster: 'degraded', workers: 1 });
    expect(now.body.peers).toBe(before.body.peers);
    // The open class goes on: its participants' requests are answered, and someone new gets in.
    const inClass = await connect(a);
    expect((await inClass.send('join', { room: 'algebra-101', displayName: 'Late' })).ok).toBe(true);
    expect((await inClass.send('renewIce', {})).ok).toBe(true);
    // A class not open here cannot be opened: another node might hold it.
    const other = await connect(a);
    const refused = await other.send('join', { room: 'new-room', displayName: 'New' });
    expect(!refused.ok && refused.error.code).toBe('unavailable');
    const metrics = parsePrometheusText(await (await fetch(`${a.metricsUrl}/metrics`)).text());
    expect(metrics.find((f) => f.name === 'lectern_cluster_coordination_up')!.samples[0]!.value).toBe(0);
  }, 30_000);
});
