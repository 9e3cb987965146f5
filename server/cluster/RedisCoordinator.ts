// Coordination through Redis (LiveKit's model): node records with a TTL refreshed by heartbeats,
// the room directory, and locks taken with SET NX PX and a random token, released by a script
// that deletes the key only if it still holds that token (a lock that expired and was taken by
// another node is never freed by the old holder).
//
// Keys (all under the configured prefix; single Redis, not Redis Cluster: the scripts name keys
// they compute):
//   nodes                 set of node ids ever registered and not yet dropped
//   node:<id>             JSON NodeRecord, PX ttl: gone when the node stops heartbeating
//   node:<id>:rooms       set of rooms the node is home of
//   room:<name>           the home node's id
//   room:<name>:forwarders set of edge nodes forwarding the room
//   recording:<id>        the id of the node whose disk holds the recording; no TTL (kept while
//                         the recording exists, also while its node is down)
//   lock:<name>           a lock token
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Coordinator, CoordinatorState, Lock } from './Coordinator.js';
import { parseNodeRecord, type NodeRecord } from './NodeRecord.js';
import { placementRefusal } from './residency.js';
import { NodeRefused } from './ClusterError.js';

// Delete KEYS[1] only if it still holds ARGV[1]: a lock's token, a recording's holder.
const DELETE_IF_HOLDS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

// KEYS: room, node rooms set. ARGV: node id, id it may replace ('' for none).
const CLAIM_HOME = `
local current = redis.call('get', KEYS[1])
if current and current ~= ARGV[1] and current ~= ARGV[2] then return 0 end
redis.call('set', KEYS[1], ARGV[1])
redis.call('sadd', KEYS[2], ARGV[3])
return 1`;

// KEYS: room, node rooms set, forwarders. ARGV: node id, room name.
const RELEASE_HOME = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('del', KEYS[3])
end
redis.call('srem', KEYS[2], ARGV[2])
return 1`;

// KEYS: node record, node rooms set, nodes set. ARGV: node id, key prefix.
// Atomic: a node that heartbeats again between the check and the release keeps its rooms.
const DROP_IF_EXPIRED = `
if redis.call('exists', KEYS[1]) == 1 then return -1 end
local rooms = redis.call('smembers', KEYS[2])
for _, room in ipairs(rooms) do
  local key = ARGV[2] .. 'room:' .. room
  if redis.call('get', key) == ARGV[1] then
    redis.call('del', key)
    redis.call('del', key .. ':forwarders')
  end
end
redis.call('del', KEYS[2])
redis.call('srem', KEYS[3], ARGV[1])
return #rooms`;

/** Shared coordination through one Redis. */
export class RedisCoordinator implements Coordinator {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #country: string | undefined;
  /** The last command failed: the store is not answering even if the socket looks open. */
  #failing = false;
  #closed = false;

  /** `options`: ioredis connection options (host/port/tls/password), built by coordinatorConfig.ts. */
  constructor(options: { url?: string | undefined; redis: RedisOptions; prefix: string; country: string | undefined }) {
    const common: RedisOptions = {
      ...options.redis,
      lazyConnect: true,
      // Fail at once while disconnected: a join must not wait on a queue that may never drain.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      // Keep trying for as long as the process runs: running classes go on meanwhile.
      retryStrategy: (attempt) => Math.min(200 * attempt, 2000),
    };
    this.#redis = options.url ? new Redis(options.url, common) : new Redis(common);
    // Without a listener ioredis logs every failed reconnect to stderr itself; state says it instead.
    this.#redis.on('error', () => {
      this.#failing = true;
    });
    this.#prefix = options.prefix;
    this.#country = options.country;
  }

  get state(): CoordinatorState {
    return this.#redis.status === 'ready' && !this.#failing ? 'ok' : 'degraded';
  }

  async start(): Promise<void> {
    await this.#redis.connect();
    this.#failing = false;
  }

  async register(record: NodeRecord, ttlMs: number): Promise<void> {
    const refusal = placementRefusal(record.placement, this.#country);
    if (refusal) throw new NodeRefused(`node ${record.id} refused: ${refusal}`);
    await this.#run((r) => r.multi().set(this.#key(`node:${record.id}`), JSON.stringify(record), 'PX', Math.ceil(ttlMs)).sadd(this.#key('nodes'), record.id).exec());
  }

  async nodes(options: { includeRefused?: boolean } = {}): Promise<NodeRecord[]> {
    const ids = await this.#run((r) => r.smembers(this.#key('nodes')));
    if (ids.length === 0) return [];
    const raws = await this.#run((r) => r.mget(ids.map((id) => this.#key(`node:${id}`))));
    const live: NodeRecord[] = [];
    for (const [i, raw] of raws.entries()) {
      const id = ids[i] as string;
      if (raw === null) {
        await this.dropIfExpired(id);
        continue;
      }
      const record = this.#accept(id, raw, options.includeRefused === true);
      if (record) live.push(record);
    }
    return live;
  }

  async node(id: string): Promise<NodeRecord | undefined> {
    const raw = await this.#run((r) => r.get(this.#key(`node:${id}`)));
    if (raw === null) {
      await this.dropIfExpired(id);
      return undefined;
    }
    return this.#accept(id, raw);
  }

  async dropIfExpired(id: string): Promise<boolean> {
    const dropped = await this.#run((r) => r.eval(DROP_IF_EXPIRED, 3, this.#key(`node:${id}`), this.#key(`node:${id}:rooms`), this.#key('nodes'), id, this.#prefix));
    return dropped !== -1;
  }

  async homeOf(room: string): Promise<string | undefined> {
    return (await this.#run((r) => r.get(this.#key(`room:${room}`)))) ?? undefined;
  }

  async claimHome(room: string, nodeId: string, replacing: string | undefined): Promise<boolean> {
    const claimed = await this.#run((r) => r.eval(CLAIM_HOME, 2, this.#key(`room:${room}`), this.#key(`node:${nodeId}:rooms`), nodeId, replacing ?? '', room));
    return claimed === 1;
  }

  async releaseHome(room: string, nodeId: string): Promise<void> {
    await this.#run((r) => r.eval(RELEASE_HOME, 3, this.#key(`room:${room}`), this.#key(`node:${nodeId}:rooms`), this.#key(`room:${room}:forwarders`), nodeId, room));
  }

  async addForwarder(room: string, nodeId: string): Promise<void> {
    await this.#run((r) => r.sadd(this.#key(`room:${room}:forwarders`), nodeId));
  }

  async removeForwarder(room: string, nodeId: string): Promise<void> {
    await this.#run((r) => r.srem(this.#key(`room:${room}:forwarders`), nodeId));
  }

  async forwarders(room: string): Promise<string[]> {
    return this.#run((r) => r.smembers(this.#key(`room:${room}:forwarders`)));
  }

  async holdRecording(id: string, nodeId: string): Promise<void> {
    await this.#run((r) => r.set(this.#key(`recording:${id}`), nodeId));
  }

  async recordingHolder(id: string): Promise<string | undefined> {
    return (await this.#run((r) => r.get(this.#key(`recording:${id}`)))) ?? undefined;
  }

  async releaseRecording(id: string, nodeId: string): Promise<void> {
    await this.#run((r) => r.eval(DELETE_IF_HOLDS, 1, this.#key(`recording:${id}`), nodeId));
  }

  async tryLock(name: string, ttlMs: number): Promise<Lock | undefined> {
    const key = this.#key(`lock:${name}`);
    const token = randomBytes(16).toString('base64url');
    const taken = await this.#run((r) => r.set(key, token, 'PX', Math.ceil(ttlMs), 'NX'));
    if (taken !== 'OK') return undefined;
    return { release: async () => void (await this.#run((r) => r.eval(DELETE_IF_HOLDS, 1, key, token))) };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#redis.disconnect();
  }

  /** A record read back from the store, used only if well-formed, its own and in-country. */
  #accept(id: string, raw: string, includeRefused = false): NodeRecord | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return undefined;
    }
    const record = parseNodeRecord(parsed);
    if (!record || record.id !== id) return undefined;
    if (!includeRefused && placementRefusal(record.placement, this.#country)) return undefined;
    return record;
  }

  async #run<T>(command: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      const result = await command(this.#redis);
      this.#failing = false;
      return result;
    } catch (error) {
      this.#failing = true;
      throw error;
    }
  }

  #key(name: string): string {
    return `${this.#prefix}${name}`;
  }
}
