// The media engine's front door: a worker pool plus room placement. Knows nothing of signalling,
// users or HTTP (LiveKit keeps pkg/sfu a leaf the same way), so it can be tested and benchmarked alone.
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { WorkerPool, type WorkerPoolOptions } from './WorkerPool.js';
import { RoomMedia, type RoomMediaOptions } from './RoomMedia.js';
import { SfuError } from './SfuError.js';
import { roomMediaCodecs } from './codecs.js';

/** Everything the media engine needs; the server fills it from the `media` config section. */
export interface SfuOptions extends WorkerPoolOptions, RoomMediaOptions {}

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
    pool.on('workerDied', (info) => this.emit('workerDied', info));
    pool.on('workerRespawned', (info) => this.emit('workerRespawned', info));
  }

  /** The worker pool (for health reports and benchmarks). */
  get pool(): WorkerPool {
    return this.#pool;
  }

  /** Create a room's router on the least loaded live worker. */
  async createRoomMedia(roomName: string): Promise<RoomMedia> {
    const host = this.#pool.leastLoaded();
    if (!host) throw new SfuError('unavailable', 'no media worker is running');
    return RoomMedia.create(roomName, host, this.#codecs, this.#roomOptions);
  }

  /**
   * What every room's router accepts. All rooms share one codec list, and mediasoup derives the
   * capabilities from it alone, so one throw-away router answers for all of them; browsers load
   * their Device with this before joining.
   */
  rtpCapabilities(): Promise<types.RtpCapabilities> {
    if (this.#rtpCapabilities) return this.#rtpCapabilities;
    const pending = (async () => {
      const host = this.#pool.leastLoaded();
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

  /** Stop every worker (and so every room). Idempotent. */
  close(): void {
    this.#pool.close();
  }
}
