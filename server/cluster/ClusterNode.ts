// This node's part in the cluster: it registers and heartbeats, decides where a room's joins go,
// and drains on shutdown. The rules, each once:
// - One owner per room. The first node to take the room's lock and find no live home becomes its
//   home; every other node sends the participant there (RoomElsewhere -> a redirect).
// - A home that stopped heartbeating is dropped after its TTL and its rooms released, so the next
//   join creates the room on a live node.
// - Redis unreachable: rooms already open here go on and still take joins (their state is here,
//   nothing can split). A room not open here is refused (ClusterUnavailable): this node cannot
//   know whether another node holds it, and opening it here could split the class in two.
// - Draining: no new rooms here; the node's rooms are released and joins are sent elsewhere.
// - A recording lives on the disk of the node that recorded it; the directory names that node
//   (no TTL: a node that is down still holds its recordings). A node asked for a recording it
//   does not hold sends the request to the holder when it is live and in-country, says the holder
//   is unavailable when it is not, and knows nothing of it only when no node holds it.
// Without a cluster section there is one process and every room is here: route() does nothing.
import type { FastifyBaseLogger } from 'fastify';
import type { LecternConfig } from '../../config/index.js';
import type { Coordinator, CoordinatorState } from './Coordinator.js';
import type { NodeRecord } from './NodeRecord.js';
import { ClusterUnavailable, RoomElsewhere } from './ClusterError.js';
import { nodeLoad } from './nodeLoad.js';
import type { MediaLoad } from '../../sfu/index.js';

/** What the node needs to know about itself, read when it heartbeats. */
export interface LocalState {
  /** Whether this room is open on this node now. */
  hasRoom(name: string): boolean;
  /** Rooms open on this node. */
  roomNames(): Iterable<string>;
  /** Participants on this node. */
  participants(): number;
  /** Media workers running. */
  workers(): number;
  /** Edge subscribers this node still takes for other nodes' rooms (cluster.internal), if it is an edge. */
  edgeRoom?(): number;
  /** Its media workers' load (Sfu.load()): a node is as full as its own admission says. */
  media?(): MediaLoad;
  /** Ids of the recordings on this node's disk: put in the directory at start (made before it, or while it was down). */
  recordingIds?(): Promise<string[]>;
}

/** Where a recording this node does not hold is, per the directory. */
export type RecordingWhereabouts =
  /** On a live, in-country node: the request goes to its signalling origin. */
  | { at: 'node'; url: string }
  /** Held by a node that cannot be reached now, or the directory cannot be read: not "no such recording". */
  | { at: 'unavailable'; message: string }
  /** No node holds it (or not a cluster). */
  | { at: 'unknown' };

/** The one wording of a holder that is down. */
export const RECORDING_HOLDER_DOWN = 'the server holding this recording is not available; try again later';

const LOCK_TTL_MS = 5000;
const LOCK_ATTEMPTS = 40;
const LOCK_RETRY_MS = 25;

/** This process as a node of the cluster (or the whole deployment, without one). */
export class ClusterNode {
  readonly #config: LecternConfig;
  readonly #coordinator: Coordinator;
  readonly #local: LocalState;
  readonly #log: FastifyBaseLogger;
  /** Rooms this node claimed, and when: a claim whose room never opened is released. */
  readonly #claims = new Map<string, number>();
  /** Directory writes for recordings that failed (store unreachable): retried at each heartbeat. */
  readonly #recordingWrites = new Map<string, 'hold' | 'release'>();
  #record: NodeRecord | undefined;
  #timer: NodeJS.Timeout | undefined;
  #heartbeatFailed = false;
  #draining = false;
  #closed = false;

  constructor(config: LecternConfig, coordinator: Coordinator, local: LocalState, log: FastifyBaseLogger) {
    this.#config = config;
    this.#coordinator = coordinator;
    this.#local = local;
    this.#log = log;
  }

  /** Whether this process is one node of several (a cluster section is configured). */
  get clustered(): boolean {
    return this.#config.cluster !== undefined;
  }

  /** This node's id (`local` without a cluster). */
  get nodeId(): string {
    return this.#config.cluster?.nodeId ?? 'local';
  }

  /** `degraded` while the coordination store cannot be reached or the last heartbeat failed. */
  get state(): CoordinatorState {
    return this.#coordinator.state === 'ok' && !this.#heartbeatFailed ? 'ok' : 'degraded';
  }

  /** Whether the node is shutting down. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * How long after this node stops answering the registry has surely dropped it (its TTL and one
   * heartbeat): a page sent here from another node goes back there no sooner. Undefined alone.
   */
  get failoverAfterSeconds(): number | undefined {
    const cluster = this.#config.cluster;
    return cluster ? cluster.ttlSeconds + cluster.heartbeatSeconds : undefined;
  }

  /** The coordinator (for the admin and audit view of the registry). */
  get coordinator(): Coordinator {
    return this.#coordinator;
  }

  /** The load this node reports and placement compares: participants over capacity, or its media workers' load when fuller. */
  load(): number {
    return nodeLoad(this.#local.participants(), this.#capacity(), this.#local.media?.());
  }

  /**
   * Connect and register, after the server listens (`signallingUrl`: where it was reached, unless
   * the config advertises another). Rejects with NodeRefused for a foreign placement.
   */
  async start(signallingUrl: string): Promise<void> {
    const cluster = this.#config.cluster;
    if (!cluster) return;
    await this.#coordinator.start();
    // Where other nodes reach this one for pipes: the advertised private address, else the control listener's.
    const privateAddress = cluster.advertise.privateAddress ?? cluster.internal?.host;
    this.#record = {
      id: cluster.nodeId,
      signallingUrl: cluster.advertise.signallingUrl ?? this.#config.http.publicUrl ?? signallingUrl,
      ...(privateAddress !== undefined ? { privateAddress } : {}),
      ...(cluster.internal ? { rpcPort: cluster.internal.port, edgeRoom: this.#local.edgeRoom?.() ?? 0 } : {}),
      placement: cluster.placement,
      capacity: this.#capacity(),
      load: this.load(),
      draining: false,
      startedAt: Date.now(),
    };
    await this.#coordinator.register(this.#record, cluster.ttlSeconds * 1000);
    // One deleted meanwhile (a pending release) is not put back.
    for (const id of (await this.#local.recordingIds?.()) ?? []) if (!this.#recordingWrites.has(id)) this.#recordingWrites.set(id, 'hold');
    await this.#writeRecordings();
    this.#log.info({ node: cluster.nodeId, placement: cluster.placement }, 'registered in the cluster');
    this.#timer = setInterval(() => void this.#heartbeat(), cluster.heartbeatSeconds * 1000);
    this.#timer.unref();
  }

  /**
   * Where a join for this room goes: returns when the room is (to be) here; throws RoomElsewhere
   * with the home node's URL, or ClusterUnavailable when no node can take it now.
   */
  async route(room: string): Promise<void> {
    if (!this.clustered) return;
    if (!this.#draining && this.#local.hasRoom(room)) return;
    if (!this.#record) throw new ClusterUnavailable('this server is still starting; try again in a moment');
    if (this.state === 'degraded') {
      throw new ClusterUnavailable('this server cannot reach the cluster directory now; classes already open on it go on, new ones cannot open until it is back');
    }
    try {
      await this.#route(room);
    } catch (error) {
      if (error instanceof RoomElsewhere || error instanceof ClusterUnavailable) throw error;
      this.#log.warn({ err: error }, 'cluster directory failed during a join');
      throw new ClusterUnavailable('the cluster directory did not answer; try again in a moment');
    }
  }

  /**
   * The signalling origin of the live node holding `room`, when it is another node; read-only (a
   * join, not this, makes a node home). For the page's same-origin hop to the home node.
   */
  async homeElsewhere(room: string): Promise<string | undefined> {
    if (!this.clustered || this.#local.hasRoom(room)) return undefined;
    const live = await this.#liveHome(room);
    return live && live.id !== this.nodeId ? live.signallingUrl : undefined;
  }

  /** Put in the directory that this node holds recording `id` (it started here). Never throws: retried until the store answers. */
  async recordingHeld(id: string): Promise<void> {
    if (!this.clustered) return;
    this.#recordingWrites.set(id, 'hold');
    await this.#writeRecordings();
  }

  /** Take recording `id` (deleted here) out of the directory. Never throws: retried until the store answers. */
  async recordingReleased(id: string): Promise<void> {
    if (!this.clustered) return;
    this.#recordingWrites.set(id, 'release');
    await this.#writeRecordings();
  }

  /**
   * Where recording `id`, which this node does not hold, is. A holder that is this node (its file
   * is gone) is `unknown`: the request is answered here, never sent round in a loop.
   */
  async recordingElsewhere(id: string): Promise<RecordingWhereabouts> {
    if (!this.clustered) return { at: 'unknown' };
    try {
      const holder = await this.#coordinator.recordingHolder(id);
      if (holder === undefined || holder === this.nodeId) return { at: 'unknown' };
      const node = await this.#liveNode(holder);
      // A holder advertising this node's own origin would send the browser back here for ever.
      if (node && node.signallingUrl !== this.#record?.signallingUrl) return { at: 'node', url: node.signallingUrl };
      if (node) this.#log.error({ node: holder }, 'a recording holder advertises this node\'s signalling URL: not redirected');
      return { at: 'unavailable', message: RECORDING_HOLDER_DOWN };
    } catch (error) {
      this.#log.warn({ err: error }, 'cluster directory failed while looking up a recording');
      return { at: 'unavailable', message: 'this server cannot reach the cluster directory to find the server holding this recording; try again in a moment' };
    }
  }

  /** The pending directory writes for recordings; those that fail stay pending. */
  async #writeRecordings(): Promise<void> {
    for (const [id, write] of [...this.#recordingWrites]) {
      try {
        if (write === 'hold') await this.#coordinator.holdRecording(id, this.nodeId);
        else await this.#coordinator.releaseRecording(id, this.nodeId);
        if (this.#recordingWrites.get(id) === write) this.#recordingWrites.delete(id);
      } catch (error) {
        this.#log.warn({ err: error, recording: id, write }, 'cluster directory: recording holder not written yet; retried at the next heartbeat');
        return;
      }
    }
  }

  async #route(room: string): Promise<void> {
    const me = this.nodeId;
    const live = await this.#liveHome(room);
    if (live) {
      if (live.id !== me) throw new RoomElsewhere(live.signallingUrl);
      if (!this.#draining) return this.#claimed(room);
    }
    if (this.#draining) throw await this.#elsewhere();
    const lock = await this.#lock(`room:${room}`);
    try {
      // Again under the lock: another node may have become home while we waited.
      const home = await this.#coordinator.homeOf(room);
      const current = home === undefined ? undefined : home === me ? this.#record : await this.#coordinator.node(home);
      if (current && current.id !== me) throw new RoomElsewhere(current.signallingUrl);
      if (!(await this.#coordinator.claimHome(room, me, home))) throw new ClusterUnavailable('another server is opening this class; try again in a moment');
      this.#claimed(room);
      if (home !== undefined && home !== me) this.#log.info({ previousHome: home }, 'room moved here: its home node is gone');
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  /** The room's home if it is live; a dead home (past its TTL) is dropped on the way. */
  async #liveHome(room: string): Promise<NodeRecord | undefined> {
    const home = await this.#coordinator.homeOf(room);
    if (home === undefined) return undefined;
    if (home === this.nodeId) return this.#record;
    return this.#liveNode(home);
  }

  /** Another node's record if it is live and in-country; a dead one (past its TTL) is dropped on the way. */
  async #liveNode(id: string): Promise<NodeRecord | undefined> {
    const node = await this.#coordinator.node(id);
    if (!node) {
      if (await this.#coordinator.dropIfExpired(id)) this.#log.warn({ node: id }, 'cluster node dropped: no heartbeat within its TTL; its rooms were released');
      return undefined;
    }
    return node;
  }

  /** The least loaded live node that takes new rooms, other than this one. */
  async #elsewhere(): Promise<Error> {
    const nodes = (await this.#coordinator.nodes()).filter((n) => n.id !== this.nodeId && !n.draining);
    nodes.sort((a, b) => a.load - b.load);
    const target = nodes[0];
    return target ? new RoomElsewhere(target.signallingUrl, 'this server is shutting down; your browser is sent to another one') : new ClusterUnavailable('every server is shutting down; try again in a moment');
  }

  async #lock(name: string): Promise<{ release(): Promise<void> }> {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      const lock = await this.#coordinator.tryLock(name, LOCK_TTL_MS);
      if (lock) return lock;
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
    throw new ClusterUnavailable('another server is opening this class; try again in a moment');
  }

  #claimed(room: string): void {
    this.#claims.set(room, Date.now());
  }

  /**
   * Stop taking rooms: mark the node draining in the registry and release its rooms, so the next
   * join creates each on a live node. The caller then asks the participants to reconnect.
   */
  async drain(): Promise<void> {
    if (!this.clustered || this.#draining) return;
    this.#draining = true;
    await this.#heartbeat();
    for (const room of new Set([...this.#local.roomNames(), ...this.#claims.keys()])) {
      await this.#coordinator.releaseHome(room, this.nodeId).catch((error: unknown) => this.#log.warn({ err: error }, 'could not release a room while draining'));
    }
    this.#claims.clear();
  }

  /** Stop heartbeating and disconnect. Idempotent. The registry entry expires by its TTL. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#coordinator.close();
  }

  async #heartbeat(): Promise<void> {
    const cluster = this.#config.cluster;
    if (!cluster || !this.#record || this.#closed) return;
    this.#record = {
      ...this.#record,
      load: this.load(),
      capacity: this.#capacity(),
      draining: this.#draining,
      ...(cluster.internal ? { edgeRoom: this.#draining ? 0 : (this.#local.edgeRoom?.() ?? 0) } : {}),
    };
    try {
      await this.#coordinator.register(this.#record, cluster.ttlSeconds * 1000);
      if (this.#heartbeatFailed) {
        this.#log.warn('cluster directory reachable again');
        await this.#reclaim();
      }
      this.#heartbeatFailed = false;
      await this.#releaseUnused(cluster.heartbeatSeconds * 2000);
      if (this.#recordingWrites.size > 0) await this.#writeRecordings();
    } catch (error) {
      if (!this.#heartbeatFailed) this.#log.error({ err: error }, 'cluster heartbeat failed: running classes go on, new ones are refused until the directory is back');
      this.#heartbeatFailed = true;
    }
  }

  /** Back after an outage: take up the rooms still open here (others may have dropped us meanwhile). */
  async #reclaim(): Promise<void> {
    if (this.#draining) return;
    for (const room of this.#local.roomNames()) {
      const home = await this.#coordinator.homeOf(room);
      if (home === this.nodeId) continue;
      const taken = home === undefined ? await this.#coordinator.claimHome(room, this.nodeId, undefined) : false;
      if (taken) this.#claimed(room);
      else this.#log.error({ node: home }, 'a room open here got another home during the outage; new participants go there');
    }
  }

  /** Release rooms this node claimed that are not open here (closed, or never opened). */
  async #releaseUnused(graceMs: number): Promise<void> {
    const now = Date.now();
    for (const [room, at] of [...this.#claims]) {
      if (this.#local.hasRoom(room)) {
        this.#claims.set(room, now);
        continue;
      }
      if (now - at < graceMs) continue;
      this.#claims.delete(room);
      await this.#coordinator.releaseHome(room, this.nodeId);
    }
  }

  #capacity(): number {
    return this.#config.cluster?.capacityParticipants ?? 500 * Math.max(1, this.#local.workers());
  }
}
