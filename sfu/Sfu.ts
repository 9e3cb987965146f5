// The media engine's front door: a worker pool, load-aware placement of rooms and subscribers, and
// the load numbers admission and the bench read. Knows nothing of signalling, users or HTTP
// (LiveKit keeps pkg/sfu a leaf the same way), so it can be tested and benchmarked alone.
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { WorkerPool, type WorkerPoolOptions } from './WorkerPool.js';
import { RoomMedia, type RoomMediaOptions } from './RoomMedia.js';
import { SfuError } from './SfuError.js';
import { roomMediaCodecs } from './codecs.js';
import { DEFAULT_CAPACITY, addLoad, capacityRefusal, type CapacityOptions, type CapacityRefusal, type ForwardLoad, type MediaLoad } from './Capacity.js';
import { TrackRates } from './TrackRates.js';
import { Placement } from './Placement.js';
import { WorkerLoadMonitor } from './WorkerLoadMonitor.js';
import { MediaListeners, type MediaListener } from './MediaListeners.js';
import { EdgeRoom } from './EdgeRoom.js';
import type { PipeListen } from './EdgeLink.js';

/** Everything the media engine needs; the server fills it from the `media` config section. */
export interface SfuOptions extends WorkerPoolOptions, RoomMediaOptions {
  /** What a worker carries and when a room spreads; defaults measured on the bench machine. */
  capacity?: Partial<CapacityOptions>;
}

/** Events of the Sfu. */
export type SfuEvents = {
  /** A worker died; its rooms closed with reason 'worker-died'. */
  workerDied: [info: { index: number; pid: number; error: Error }];
  /** A worker was replaced after dying. */
  workerRespawned: [info: { index: number; pid: number }];
};

/** Lectern's SFU: media workers and the rooms placed on them. */
export class Sfu extends TypedEmitter<SfuEvents> {
  readonly #pool: WorkerPool;
  readonly #roomOptions: RoomMediaOptions;
  readonly #codecs: types.RouterRtpCodecCapability[];
  readonly #capacity: CapacityOptions;
  readonly #placement: Placement;
  readonly #monitor: WorkerLoadMonitor;
  readonly #listeners: MediaListeners;
  readonly #rooms = new Set<RoomMedia>();
  readonly #edgeRooms = new Set<EdgeRoom>();
  /** Measured packet and bit rates of every room's tracks: what each consumer weighs. */
  readonly #rates: TrackRates;
  readonly #listenIp: string;
  #rtpCapabilities: Promise<types.RtpCapabilities> | undefined;

  /** Start the workers; rejects if a media port cannot be bound. */
  static async create(options: SfuOptions, codecs = roomMediaCodecs): Promise<Sfu> {
    const pool = await WorkerPool.create(options);
    return new Sfu(pool, options, codecs);
  }

  private constructor(pool: WorkerPool, options: SfuOptions, codecs: types.RouterRtpCodecCapability[]) {
    super();
    this.#pool = pool;
    this.#codecs = codecs;
    this.#roomOptions = {
      maxIncomingBitrate: options.maxIncomingBitrate,
      initialAvailableOutgoingBitrate: options.initialAvailableOutgoingBitrate,
    };
    this.#capacity = { ...DEFAULT_CAPACITY, ...options.capacity };
    this.#rates = new TrackRates(this.#capacity.estimatorPacketCost);
    this.#listenIp = options.listenIp;
    this.#placement = new Placement(pool, this.#capacity, (worker) => {
      // Measured: what every consumer on it forwards (subscribers', pipes', any other), weighed by
      // its track's rate; projected: plus what the subscribers placed on it are due and do not get yet.
      let load = this.#rates.onWorker(worker);
      // The transports' measured send rate also carries RTX and RTCP: the larger of the two counts.
      load.bitrate = Math.max(load.bitrate, worker.sendBitrate);
      for (const room of this.#rooms) load = addLoad(load, room.dueOn(worker));
      for (const room of this.#edgeRooms) load = addLoad(load, room.dueOn(worker));
      return load;
    });
    this.#monitor = new WorkerLoadMonitor(pool, this.#capacity.loadSampleMs, this.#rates, () => [...this.#rooms].flatMap((room) => room.tracks()));
    this.#listeners = new MediaListeners(pool);
    pool.on('workerDied', (info) => this.emit('workerDied', info));
    pool.on('workerRespawned', (info) => this.emit('workerRespawned', info));
    pool.on('close', () => this.#monitor.close());
  }

  /** The worker pool (for health reports, tests and benchmarks). */
  get pool(): WorkerPool {
    return this.#pool;
  }

  /** Number of live media workers. */
  get workerCount(): number {
    return this.#pool.live.length;
  }

  /** What each worker carries at capacity, and the room-spread threshold. */
  get capacity(): CapacityOptions {
    return { ...this.#capacity };
  }

  /**
   * Load per live worker (routers, consumers now, packets/s, bits/s and consumers projected, CPU,
   * sent bitrate, score against capacity) and in total: what placement decides by, admission
   * refuses by, the cluster's node load reads, and the bench reports.
   */
  load(): MediaLoad {
    const load = this.#placement.load();
    // Participants who joined but have no transport yet are on no worker, but are due their tracks.
    for (const room of this.#rooms) load.projected = addLoad(load.projected, room.unplacedDue());
    load.projectedConsumers = load.projected.consumers;
    return load;
  }

  /**
   * Whether the workers can take a subscriber due `join` (RoomMedia.joinLoad: the packets/s, bits/s
   * and consumers of what it will receive); the refusal's numbers when not (capacityRefusal).
   * `useReserve`: it may use the instructors' reserve (`reserved`, by default media.capacity.reservedForInstructors).
   */
  refusal(join: ForwardLoad, useReserve: boolean, reserved = this.#capacity.reservedForInstructors): CapacityRefusal | undefined {
    return capacityRefusal(this.load(), { ...this.#capacity, reservedForInstructors: reserved }, join, useReserve);
  }

  /**
   * What each consumer on worker `index` weighs now, by consumer id (one still being made is not
   * listed): the terms load() sums for that worker. For tests and the bench, which hold each weight
   * against what its subscriber really receives.
   */
  consumerWeights(index: number): Map<string, ForwardLoad> {
    const weights = new Map<string, ForwardLoad>();
    const worker = this.#pool.live.find((w) => w.index === index);
    for (const entry of worker?.forwarded ?? []) if (entry.consumer) weights.set(entry.consumer.id, this.#rates.weight(entry));
    return weights;
  }

  /** Measure every worker's CPU and sent bitrate, and every track's rate, now instead of waiting for the next periodic sample. */
  sampleLoad(): Promise<void> {
    return this.#monitor.sample();
  }

  /** Create a room's first router on the least loaded live worker (by load, not router count). */
  async createRoomMedia(roomName: string): Promise<RoomMedia> {
    const host = this.#placement.leastLoaded();
    if (!host) throw new SfuError('unavailable', 'no media worker is running');
    const room = await RoomMedia.create(roomName, host, {
      mediaCodecs: this.#codecs,
      options: this.#roomOptions,
      placement: this.#placement,
      // Bits are not a spread limit: a room's share of a worker is its packets and consumers.
      spread: { packetRate: this.#capacity.roomSpreadPackets, bitrate: Infinity, consumers: this.#capacity.roomSpreadConsumers },
      rates: this.#rates,
      listenIp: this.#listenIp,
      refusal: (join, useReserve) => this.refusal(join, useReserve),
      published: () => this.#monitor.measureNewTracks(),
    });
    this.#rooms.add(room);
    room.once('close', () => this.#rooms.delete(room));
    return room;
  }

  /**
   * This node as an edge of another node's room: its first router on the least loaded live worker;
   * it spreads over the other workers past the spread threshold, placed like a home room.
   */
  async createEdgeRoom(roomName: string, pipeListen: PipeListen): Promise<EdgeRoom> {
    const host = this.#placement.leastLoaded();
    if (!host) throw new SfuError('unavailable', 'no media worker is running');
    const room = await EdgeRoom.create(
      roomName,
      host,
      { mediaCodecs: this.#codecs, placement: this.#placement, spreadConsumers: this.#capacity.roomSpreadConsumers, estimatorPacketCost: this.#capacity.estimatorPacketCost },
      { initialAvailableOutgoingBitrate: this.#roomOptions.initialAvailableOutgoingBitrate, pipeListen },
    );
    this.#edgeRooms.add(room);
    room.once('close', () => this.#edgeRooms.delete(room));
    return room;
  }

  /**
   * What every room's router accepts. All rooms share one codec list, and mediasoup derives the
   * capabilities from it alone, so one throw-away router answers for all of them; browsers load
   * their Device with this before joining.
   */
  rtpCapabilities(): Promise<types.RtpCapabilities> {
    if (this.#rtpCapabilities) return this.#rtpCapabilities;
    const pending = (async () => {
      const host = this.#pool.live[0];
      if (!host) throw new SfuError('unavailable', 'no media worker is running');
      const router = await host.worker.createRouter({ mediaCodecs: this.#codecs });
      const capabilities = router.rtpCapabilities;
      router.close();
      return capabilities;
    })();
    this.#rtpCapabilities = pending;
    // A failure (no worker yet) is not remembered: the next caller tries again.
    pending.catch(() => {
      if (this.#rtpCapabilities === pending) this.#rtpCapabilities = undefined;
    });
    return pending;
  }

  /** The media sockets every worker listens on and the addresses it announces (for the runtime audit). */
  listeners(): Promise<MediaListener[]> {
    return this.#listeners.describe();
  }

  /** Ports the workers' WebRtcServers listen on (UDP and TCP each), by worker index. */
  get mediaPorts(): number[] {
    return this.#pool.workers.map((w) => w.port);
  }

  /** Stop every worker (and so every room). Idempotent. */
  close(): void {
    this.#monitor.close();
    this.#pool.close();
  }
}
