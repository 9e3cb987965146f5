// A pool of mediasoup workers, one per core by default. Each worker owns one WebRtcServer, so all
// its transports share one UDP and one TCP port (rtcPort + worker index): a university firewall
// opens a handful of ports instead of a range of thousands.
import os from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import type { Forwarded } from './TrackRates.js';

/** Options for the worker pool; taken from the `media` config section. */
export interface WorkerPoolOptions {
  /** Number of workers; 0 means one per CPU core. */
  workers: number;
  /** Address the WebRtcServers bind. */
  listenIp: string;
  /** Address announced in ICE candidates, when it differs from listenIp (NAT, Elastic IP). */
  announcedAddress?: string | undefined;
  /** Worker i listens on rtcPort + i, UDP and TCP; 0 lets the OS pick free ports (tests, benchmarks). */
  rtcPort: number;
  /** mediasoup worker log level. */
  logLevel: types.WorkerLogLevel;
  /** Send through io_uring where the worker and kernel support it (default true). */
  ioUring?: boolean;
  /** Replace a worker that died (default true). */
  respawn?: boolean;
}

/** A live worker with its WebRtcServer and the port it listens on. */
export interface PooledWorker {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  readonly port: number;
  /** Routers currently placed on this worker (counted before each is created). */
  routers: number;
  /** Consumers on this worker, browsers' and pipes', counted from the moment one is asked for. */
  consumers: number;
  /** The same consumers with what each forwards (countForwarding), for weighing them by packet rate. */
  readonly forwarded: Set<Forwarded>;
  /** Share of one core the worker used over the last sample (WorkerLoadMonitor); 0 until sampled. */
  cpu: number;
  /** Bits per second the worker sent to subscribers over the last sample; 0 until sampled. */
  sendBitrate: number;
  /** Transports on this worker that send media out, whose bitrate the load monitor sums. */
  readonly senders: Set<types.Transport>;
}

/** Events of a WorkerPool. */
export type WorkerPoolEvents = {
  /** A worker process died; every router on it is gone. It is replaced if respawn is on. */
  workerDied: [info: { index: number; pid: number; error: Error }];
  /** A replacement worker is ready. */
  workerRespawned: [info: { index: number; pid: number }];
  /** A dead worker could not be replaced. */
  respawnFailed: [info: { index: number; error: Error }];
  /** The pool closed. */
  close: [];
};

/** The media workers of one Lectern process. */
export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #slots: (PooledWorker | undefined)[];
  #closed = false;

  /** Start the workers and their WebRtcServers; fails if any port is taken. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const count = options.workers > 0 ? options.workers : os.availableParallelism();
    const pool = new WorkerPool(options, count);
    try {
      await Promise.all(pool.#slots.map((_, index) => pool.#start(index)));
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  private constructor(options: WorkerPoolOptions, count: number) {
    super();
    this.#options = options;
    this.#slots = new Array<PooledWorker | undefined>(count).fill(undefined);
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Workers currently alive. */
  get workers(): readonly PooledWorker[] {
    return this.#slots.filter((w): w is PooledWorker => w !== undefined);
  }

  /**
   * Workers that can take new routers: alive and not closing. A dead worker closes its routers
   * before it emits 'died' (and so before its slot is cleared): rooms moving off it in those
   * listeners must not be placed on it again.
   */
  get live(): PooledWorker[] {
    return this.#slots.filter((slot): slot is PooledWorker => slot !== undefined && !slot.worker.died && !slot.worker.closed);
  }

  /** Stop every worker. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) slot?.worker.close();
    this.#slots.fill(undefined);
    this.emit('close');
  }

  async #start(index: number): Promise<void> {
    const { listenIp, announcedAddress, rtcPort, logLevel, ioUring = true } = this.#options;
    const port = rtcPort === 0 ? undefined : rtcPort + index;
    const worker = await mediasoup.createWorker({ logLevel, disableLiburing: !ioUring, appData: { index } });
    let webRtcServer: types.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: (['udp', 'tcp'] as const).map((protocol) => ({
          protocol,
          ip: listenIp,
          ...(announcedAddress ? { announcedAddress } : {}),
          ...(port ? { port } : {}),
        })),
      });
    } catch (error) {
      worker.close();
      throw new Error(`media worker ${index} cannot listen on ${listenIp}:${port ?? 'any port'} (UDP+TCP): ${(error as Error).message}`);
    }
    if (this.#closed) {
      worker.close();
      return;
    }
    const bound = (await webRtcServer.dump()).udpSockets[0]?.port ?? port ?? 0;
    const pooled: PooledWorker = { index, worker, webRtcServer, port: bound, routers: 0, consumers: 0, forwarded: new Set(), cpu: 0, sendBitrate: 0, senders: new Set() };
    this.#slots[index] = pooled;
    worker.on('died', (error) => this.#onDied(pooled, error));
  }

  #onDied(pooled: PooledWorker, error: Error): void {
    if (this.#slots[pooled.index] === pooled) this.#slots[pooled.index] = undefined;
    this.emit('workerDied', { index: pooled.index, pid: pooled.worker.pid, error });
    if (this.#closed || this.#options.respawn === false) return;
    // The port is free again once the process is gone; respawning keeps the firewall contract.
    this.#start(pooled.index).then(
      () => {
        const fresh = this.#slots[pooled.index];
        if (fresh) this.emit('workerRespawned', { index: pooled.index, pid: fresh.worker.pid });
      },
      (respawnError: Error) => this.emit('respawnFailed', { index: pooled.index, error: respawnError }),
    );
  }
}
