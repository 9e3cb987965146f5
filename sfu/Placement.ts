// Which worker takes the next router: the one with the most room left by measured load (packets/s
// and bits/s its consumers forward or are due to, consumers it holds, CPU, each against the worker's
// capacity), not the one with the fewest routers or consumers: a 500-student lecture and a
// two-person meeting are one router each, and a page of thumbnails is not a page of full-size cameras.
import { loadShare, workerCapacity, type CapacityOptions, type ForwardLoad, type MediaLoad, type WorkerLoad } from './Capacity.js';
import type { PooledWorker, WorkerPool } from './WorkerPool.js';

/** Scores workers by load and picks the least loaded. */
export class Placement {
  readonly #pool: WorkerPool;
  readonly #capacity: CapacityOptions;
  readonly #projected: (worker: PooledWorker) => ForwardLoad;

  /** `projected` gives what a worker's consumers forward plus what its placed subscribers are due. */
  constructor(pool: WorkerPool, capacity: CapacityOptions, projected: (worker: PooledWorker) => ForwardLoad) {
    this.#pool = pool;
    this.#capacity = capacity;
    this.#projected = projected;
  }

  /** The capacity every worker is measured against. */
  get capacity(): CapacityOptions {
    return this.#capacity;
  }

  /** How full a worker is: the fullest of its packets, bits, consumers and CPU; 1 means full. */
  score(worker: PooledWorker): number {
    return this.#score(worker, this.#projected(worker));
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
    const workers: WorkerLoad[] = this.#pool.live.map((w) => {
      const projected = this.#projected(w);
      return {
        index: w.index,
        pid: w.worker.pid,
        routers: w.routers,
        consumers: w.consumers,
        projectedConsumers: projected.consumers,
        projected,
        cpu: w.cpu,
        sendBitrate: w.sendBitrate,
        score: this.#score(w, projected),
      };
    });
    const one = workerCapacity(this.#capacity);
    const capacity = { packetRate: one.packetRate * workers.length, bitrate: one.bitrate * workers.length, consumers: one.consumers * workers.length };
    const projected = workers.reduce(
      (sum, w) => ({ packetRate: sum.packetRate + w.projected.packetRate, bitrate: sum.bitrate + w.projected.bitrate, consumers: sum.consumers + w.projected.consumers }),
      { packetRate: 0, bitrate: 0, consumers: 0 },
    );
    return { workers, capacity, projected, capacityConsumers: capacity.consumers, projectedConsumers: projected.consumers };
  }

  #score(worker: PooledWorker, projected: ForwardLoad): number {
    return Math.max(loadShare(projected, workerCapacity(this.#capacity)), worker.cpu / this.#capacity.cpuCeiling);
  }
}
