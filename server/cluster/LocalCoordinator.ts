// The embedded default: one process, the directory in memory, no Redis. The same primitives as
// RedisCoordinator, so ClusterNode's policy is one code path for both.
import { randomBytes } from 'node:crypto';
import type { Coordinator, CoordinatorState, Lock } from './Coordinator.js';
import type { NodeRecord } from './NodeRecord.js';
import { placementRefusal } from './residency.js';
import { NodeRefused } from './ClusterError.js';

/** In-memory coordination for a single process. */
export class LocalCoordinator implements Coordinator {
  readonly #country: string | undefined;
  /** Without a cluster section there is no placement to check: the process is the deployment. */
  readonly #checkPlacement: boolean;
  readonly #nodes = new Map<string, { record: NodeRecord; expires: number }>();
  readonly #homes = new Map<string, string>();
  readonly #forwarders = new Map<string, Set<string>>();
  readonly #recordings = new Map<string, string>();
  readonly #locks = new Map<string, { token: string; expires: number }>();

  /** `country` undefined with `checkPlacement` false: the embedded default, one process, nothing to prove. */
  constructor(options: { country: string | undefined; checkPlacement: boolean }) {
    this.#country = options.country;
    this.#checkPlacement = options.checkPlacement;
  }

  get state(): CoordinatorState {
    return 'ok';
  }

  async start(): Promise<void> {}

  async register(record: NodeRecord, ttlMs: number): Promise<void> {
    if (this.#checkPlacement) {
      const refusal = placementRefusal(record.placement, this.#country);
      if (refusal) throw new NodeRefused(`node ${record.id} refused: ${refusal}`);
    }
    this.#nodes.set(record.id, { record, expires: Date.now() + ttlMs });
  }

  async nodes(): Promise<NodeRecord[]> {
    const live: NodeRecord[] = [];
    for (const id of [...this.#nodes.keys()]) {
      const record = await this.node(id);
      if (record) live.push(record);
    }
    return live;
  }

  async node(id: string): Promise<NodeRecord | undefined> {
    const entry = this.#nodes.get(id);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      await this.dropIfExpired(id);
      return undefined;
    }
    return entry.record;
  }

  async dropIfExpired(id: string): Promise<boolean> {
    const entry = this.#nodes.get(id);
    if (entry && entry.expires > Date.now()) return false;
    this.#nodes.delete(id);
    for (const [room, home] of this.#homes) if (home === id) this.#homes.delete(room);
    return true;
  }

  async homeOf(room: string): Promise<string | undefined> {
    return this.#homes.get(room);
  }

  async claimHome(room: string, nodeId: string, replacing: string | undefined): Promise<boolean> {
    const current = this.#homes.get(room);
    if (current !== undefined && current !== replacing && current !== nodeId) return false;
    this.#homes.set(room, nodeId);
    return true;
  }

  async releaseHome(room: string, nodeId: string): Promise<void> {
    if (this.#homes.get(room) === nodeId) {
      this.#homes.delete(room);
      this.#forwarders.delete(room);
    }
  }

  async addForwarder(room: string, nodeId: string): Promise<void> {
    let set = this.#forwarders.get(room);
    if (!set) this.#forwarders.set(room, (set = new Set()));
    set.add(nodeId);
  }

  async removeForwarder(room: string, nodeId: string): Promise<void> {
    this.#forwarders.get(room)?.delete(nodeId);
  }

  async forwarders(room: string): Promise<string[]> {
    return [...(this.#forwarders.get(room) ?? [])];
  }

  async holdRecording(id: string, nodeId: string): Promise<void> {
    this.#recordings.set(id, nodeId);
  }

  async recordingHolder(id: string): Promise<string | undefined> {
    return this.#recordings.get(id);
  }

  async releaseRecording(id: string, nodeId: string): Promise<void> {
    if (this.#recordings.get(id) === nodeId) this.#recordings.delete(id);
  }

  async tryLock(name: string, ttlMs: number): Promise<Lock | undefined> {
    const held = this.#locks.get(name);
    if (held && held.expires > Date.now()) return undefined;
    const token = randomBytes(16).toString('base64url');
    this.#locks.set(name, { token, expires: Date.now() + ttlMs });
    return {
      release: async () => {
        if (this.#locks.get(name)?.token === token) this.#locks.delete(name);
      },
    };
  }

  async close(): Promise<void> {}
}
