// The coordination primitives, for both implementations against the same expectations: the
// in-memory one and Redis (a real redis-server started here). Node records expire after their TTL
// and take their rooms with them; locks are held by one owner and freed only by it; a node whose
// placement is not proven in the deployment's country is refused, and never read back; a
// recording's holder is kept without a TTL until that holder releases it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCoordinator } from '../../server/cluster/LocalCoordinator.js';
import { RedisCoordinator } from '../../server/cluster/RedisCoordinator.js';
import type { Coordinator } from '../../server/cluster/Coordinator.js';
import type { NodeRecord } from '../../server/cluster/NodeRecord.js';
import { NodeRefused } from '../../server/cluster/ClusterError.js';
import { placementRefusal } from '../../server/cluster/residency.js';
import { startRedis, type TestRedis } from '../helpers/redisServer.js';

let redis: TestRedis;
let prefixes = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const record = (id: string, extra: Partial<NodeRecord> = {}): NodeRecord => ({
  id,
  signallingUrl: `http://127.0.0.2:${3000 + id.length}`,
  placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1b' },
  capacity: 500,
  load: 0,
  draining: false,
  startedAt: Date.now(),
  ...extra,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const implementations: [string, () => Promise<Coordinator>][] = [
  ['local', async () => new LocalCoordinator({ country: 'DE', checkPlacement: true })],
  [
    'redis',
    async () => {
      const c = new RedisCoordinator({ redis: { host: redis.host, port: redis.port }, prefix: `t${prefixes++}:`, country: 'DE' });
      await c.start();
      return c;
    },
  ],
];

describe.each(implementations)('%s coordinator', (_name, make) => {
  it('registers nodes and drops one after its TTL, releasing the rooms it was home of', async () => {
    const c = await make();
    await c.register(record('node-a'), 400);
    await c.register(record('node-b'), 5000);
    expect((await c.nodes()).map((n) => n.id).sort()).toEqual(['node-a', 'node-b']);
    expect(await c.claimHome('algebra', 'node-a', undefined)).toBe(true);
    // Another node cannot take a room with a live home.
    expect(await c.claimHome('algebra', 'node-b', undefined)).toBe(false);
    expect(await c.homeOf('algebra')).toBe('node-a');
    expect(await c.dropIfExpired('node-a')).toBe(false);
    await sleep(600);
    expect((await c.nodes()).map((n) => n.id)).toEqual(['node-b']);
    expect(await c.homeOf('algebra')).toBeUndefined();
    expect(await c.claimHome('algebra', 'node-b', undefined)).toBe(true);
    await c.close();
  });

  it('releases a room only for its home, and keeps the forwarders with it', async () => {
    const c = await make();
    await c.register(record('node-a'), 5000);
    await c.claimHome('physics', 'node-a', undefined);
    await c.addForwarder('physics', 'node-b');
    expect(await c.forwarders('physics')).toEqual(['node-b']);
    await c.releaseHome('physics', 'node-b');
    expect(await c.homeOf('physics')).toBe('node-a');
    await c.releaseHome('physics', 'node-a');
    expect(await c.homeOf('physics')).toBeUndefined();
    expect(await c.forwarders('physics')).toEqual([]);
    await c.close();
  });

  it('gives a lock to one holder; it expires by itself, and the old holder cannot free the new one', async () => {
    const c = await make();
    const first = await c.tryLock('room:chemistry', 300);
    expect(first).toBeDefined();
    expect(await c.tryLock('room:chemistry', 300)).toBeUndefined();
    await sleep(400);
    const second = await c.tryLock('room:chemistry', 5000);
    expect(second).toBeDefined();
    // The first holder's lock expired: its release must not free the second holder's.
    await first!.release();
    expect(await c.tryLock('room:chemistry', 5000)).toBeUndefined();
    await second!.release();
    expect(await c.tryLock('room:chemistry', 5000)).toBeDefined();
    await c.close();
  });

  it('names the node holding a recording, without a TTL (also once that node is dropped), until its holder releases it', async () => {
    const c = await make();
    await c.register(record('node-a'), 300);
    expect(await c.recordingHolder('rec-1')).toBeUndefined();
    await c.holdRecording('rec-1', 'node-a');
    expect(await c.recordingHolder('rec-1')).toBe('node-a');
    // Its node stopped heartbeating: the recording is still on that node's disk, the entry stays.
    await sleep(400);
    expect(await c.dropIfExpired('node-a')).toBe(true);
    expect(await c.recordingHolder('rec-1')).toBe('node-a');
    // Only the holder releases it (a node that does not hold it deleting nothing changes nothing).
    await c.releaseRecording('rec-1', 'node-b');
    expect(await c.recordingHolder('rec-1')).toBe('node-a');
    await c.releaseRecording('rec-1', 'node-a');
    expect(await c.recordingHolder('rec-1')).toBeUndefined();
    await c.close();
  });

  it('refuses a node placed outside the country, or whose place is not proven', async () => {
    const c = await make();
    for (const placement of [
      { country: 'SE', region: 'eu-north-1' },
      // Says Germany, but the region is Stockholm.
      { country: 'DE', region: 'eu-north-1' },
      { country: 'DE', zone: 'eu-north-1a' },
      // Not a catalogued zone: unknown is refused.
      { country: 'DE', zone: 'eu-central-9z' },
    ]) {
      await expect(c.register(record('node-x', { placement }), 5000)).rejects.toBeInstanceOf(NodeRefused);
    }
    expect(await c.nodes()).toEqual([]);
    // A Hamburg Local Zone is in Germany.
    await c.register(record('node-h', { placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1-ham-1a' } }), 5000);
    expect((await c.nodes()).map((n) => n.id)).toEqual(['node-h']);
    await c.close();
  });
});

describe('redis recording directory', () => {
  it('keeps a recording holder under the configured prefix (the hosts\' ACL allows only lectern:*), with no expiry', async () => {
    const c = new RedisCoordinator({ redis: { host: redis.host, port: redis.port }, prefix: 'lectern:', country: 'DE' });
    await c.start();
    await c.holdRecording('0b6c3a47-8d1e-4f2a-9c3b-5e6f7a8b9c0d', 'node-a');
    const raw = redis.client();
    expect(await raw.keys('*0b6c3a47-8d1e-4f2a-9c3b-5e6f7a8b9c0d*')).toEqual(['lectern:recording:0b6c3a47-8d1e-4f2a-9c3b-5e6f7a8b9c0d']);
    expect(await raw.get('lectern:recording:0b6c3a47-8d1e-4f2a-9c3b-5e6f7a8b9c0d')).toBe('node-a');
    expect(await raw.pttl('lectern:recording:0b6c3a47-8d1e-4f2a-9c3b-5e6f7a8b9c0d')).toBe(-1);
    await c.releaseRecording('0b6c3a47-8d1e-4f2a-9c3b-5e6f7a8b9c0d', 'node-a');
    expect(await raw.exists('lectern:recording:0b6c3a47-8d1e-4f2a-9c3b-5e6f7a8b9c0d')).toBe(0);
    raw.disconnect();
    await c.close();
  });
});

describe('redis registry read back', () => {
  it('ignores an entry written into Redis by other means with a foreign placement or a bad shape', async () => {
    const c = new RedisCoordinator({ redis: { host: redis.host, port: redis.port }, prefix: 'rogue:', country: 'DE' });
    await c.start();
    const raw = redis.client();
    await raw.sadd('rogue:nodes', 'node-se', 'node-junk');
    await raw.set('rogue:node:node-se', JSON.stringify(record('node-se', { placement: { country: 'SE', region: 'eu-north-1' } })), 'PX', 5000);
    await raw.set('rogue:node:node-junk', JSON.stringify({ ...record('node-junk'), extra: 1 }), 'PX', 5000);
    await raw.set('rogue:room:history', 'node-se');
    expect(await c.nodes()).toEqual([]);
    expect(await c.node('node-se')).toBeUndefined();
    raw.disconnect();
    await c.close();
  });
});

describe('placement rule', () => {
  it('refuses without a deployment country or a placement (default deny)', () => {
    expect(placementRefusal({ country: 'DE' }, undefined)).toMatch(/no country/);
    expect(placementRefusal(undefined, 'DE')).toMatch(/no placement/);
    expect(placementRefusal({ country: 'DE', region: 'eu-central-1', zone: 'eu-central-2a' }, 'DE')).toBeDefined();
    expect(placementRefusal({ country: 'DE', region: 'eu-central-1', zone: 'eu-central-1c' }, 'DE')).toBeUndefined();
  });
});
