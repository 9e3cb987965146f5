// Which worker takes the next router: the one with the most room left by measured load (consumers
// due, CPU, sent bitrate, each against the worker's capacity), not the one with the fewest routers:
// a 500-student lecture and a two-person meeting are one router each but nowhere near one load.
import type { CapacityOptions, MediaLoad, WorkerLoad } from './Capacity.js';
import type { PooledWorker, WorkerPool } from './WorkerPool.js';

/** Scores workers by load and picks the least loaded. */
export class Placement {
  readonly #pool: WorkerPool;
  readonly #capacity: CapacityOptions;
  readonly #projected: (worker: PooledWorker) => number;

  /** `projected` gives a worker's consumers plus those its placed subscribers are due to get. */
  constructor(pool: WorkerPool, capacity: CapacityOptions, projected: (worker: PooledWorker) => number) {
    this.#pool = pool;
    this.#capacity = capacity;
    this.#projected = projected;
  }

  /** The capacity every worker is measured against. */
  get capacity(): CapacityOptions {
    return this.#capacity;
  }

  /** How full a worker is: the fullest of its consumers, CPU and sent bitrate; 1 means full. */
  score(worker: PooledWorker): number {
    const c = this.#capacity;
    return Math.max(this.#projected(worker) / c.consumersPerWorker, worker.cpu / c.cpuCeiling, worker.sendBitrate / c.sendBitratePerWorker);
  }

  /** The live worker with the lowest score (fewest routers on a tie), skipping `exclude`. */
  leastLoaded(exclude: ReadonlySet<PooledWorker> = new Set()): PooledWorker | undefined {
    let best: PooledWorker | undefined;
    let bestScore = Infinity;
    for (const worker of this.#pool.live) {
      if (exclude.has(worker)) continue;
      const score = this.score(worker);
      if (score < bestScore || (score === bestScore && best && worker.routers < best.routers)) {
        best = worker;
        bestScore = score;
      }
    }
    return best;
  }

  /** Every live worker's load, and the total against capacity. */
  load(): MediaLoad {
    const workers: WorkerLoad[] = this.#pool.live.map((w) => ({
      index: w.index,
      pid: w.worker.pid,
      routers: w.routers,
      consumers: w.consumers,
      projectedConsumers: this.#projected(w),
      cpu: w.cpu,
      sendBitrate: w.sendBitrate,
      score: this.score(w),
    }));
    return {
      workers,
      capacityConsumers: workers.length * this.#capacity.consumersPerWorker,
      projectedConsumers: workers.reduce((n, w) => n + w.projectedConsumers, 0),
    };
  }
}
