// Coordination behind one interface (LiveKit's local/Redis router split): the node registry with
// heartbeats and a TTL, the room directory (room -> home node, and the nodes forwarding it) and
// locks, and the recording directory (recording -> the node whose disk holds it). LocalCoordinator
// keeps it in memory for a single process; RedisCoordinator shares it.
// Policy (who becomes home, redirects, draining) is ClusterNode's; these are the primitives.
import type { NodeRecord } from './NodeRecord.js';

/** A held lock; release() frees it only if this holder still owns it. */
export interface Lock {
  release(): Promise<void>;
}

/** Whether the store can be reached; `degraded` while it cannot. */
export type CoordinatorState = 'ok' | 'degraded';

export interface Coordinator {
  /** `ok` while the store answers; `degraded` while it cannot be reached. */
  readonly state: CoordinatorState;
  /** Connect (if needed). Rejects when the store cannot be reached at start-up. */
  start(): Promise<void>;
  /** Put this node's record in the registry with a TTL; refused (NodeRefused) when its placement is not in-country. */
  register(record: NodeRecord, ttlMs: number): Promise<void>;
  /**
   * Live, in-country nodes. Expired nodes are dropped here (their rooms released). With
   * `includeRefused`, also well-formed entries placed outside the country (for the audit to report;
   * never for placement).
   */
  nodes(options?: { includeRefused?: boolean }): Promise<NodeRecord[]>;
  /** One live, in-country node, or undefined. */
  node(id: string): Promise<NodeRecord | undefined>;
  /** Drop a node whose entry expired: release the rooms it was home of. False if it is alive. */
  dropIfExpired(id: string): Promise<boolean>;
  /** The home node id of a room, if any. */
  homeOf(room: string): Promise<string | undefined>;
  /** Make `nodeId` the room's home if it has none or its home is `replacing`; true when it is now. */
  claimHome(room: string, nodeId: string, replacing: string | undefined): Promise<boolean>;
  /** Release the room's home if it is `nodeId`. */
  releaseHome(room: string, nodeId: string): Promise<void>;
  /** Record that `nodeId` forwards the room's media (an edge node). */
  addForwarder(room: string, nodeId: string): Promise<void>;
  /** `nodeId` no longer forwards the room's media. */
  removeForwarder(room: string, nodeId: string): Promise<void>;
  /** The nodes forwarding a room. */
  forwarders(room: string): Promise<string[]>;
  /**
   * Record that `nodeId` holds recording `id` on its disk. No TTL: the entry stays while the
   * recording exists (a node that is down still holds it), until releaseRecording.
   */
  holdRecording(id: string, nodeId: string): Promise<void>;
  /** The node holding recording `id`, if any node recorded that it does. */
  recordingHolder(id: string): Promise<string | undefined>;
  /** Forget recording `id` (deleted) if `nodeId` is its holder. */
  releaseRecording(id: string, nodeId: string): Promise<void>;
  /** Take a named lock for `ttlMs` (it expires by itself if the holder dies); undefined if held. */
  tryLock(name: string, ttlMs: number): Promise<Lock | undefined>;
  /** Disconnect. Idempotent. */
  close(): Promise<void>;
}
