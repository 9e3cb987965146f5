// What one media worker can carry, and when a room spreads to a second one. The server fills these
// from the `media.capacity` config section, whose defaults come from the bench on this machine kind.

/** Capacity of one worker, and the room-spread threshold. */
export interface CapacityOptions {
  /** Consumers one worker carries without loss (browsers' and pipes'). */
  consumersPerWorker: number;
  /** Bits per second one worker sends without loss. */
  sendBitratePerWorker: number;
  /** Share of its core above which a worker takes nothing new (0..1). */
  cpuCeiling: number;
  /** A room's router holding (or due to hold) this many consumers takes no new subscribers. */
  roomSpreadConsumers: number;
  /** How often each worker's CPU and sent bitrate are measured, in milliseconds. */
  loadSampleMs: number;
  /** Share of the capacity only instructors and presenters (and the recorder they start) may use (0..0.9). */
  reservedForInstructors: number;
}

/**
 * Defaults for a 2-core AMD EPYC host (the bench machine; bench/results/2026-11-29T00-08-38.json,
 * "capacity of one worker"): one worker forwarded 1 -> 400 (800 consumers, 68,000 packets/s, ~450
 * Mbit/s) with 0 loss at 85-100 % of its core, and lost packets at 1 -> 450. A quarter is kept spare
 * for what the bench's plain subscribers do not cost: browsers' RTCP, bandwidth estimation, NACKs and
 * simulcast switching. The server passes config's media.capacity (same defaults, config/schema.ts);
 * these serve the Sfu used alone (tests, bench).
 */
export const DEFAULT_CAPACITY: CapacityOptions = {
  consumersPerWorker: 600,
  sendBitratePerWorker: 340_000_000,
  cpuCeiling: 0.85,
  roomSpreadConsumers: 300,
  loadSampleMs: 2000,
  reservedForInstructors: 0.1,
};

/** One worker's load, as placement and admission see it. */
export interface WorkerLoad {
  /** Pool index. */
  index: number;
  /** Process id. */
  pid: number;
  /** Routers on it (rooms, and rooms' second routers). */
  routers: number;
  /** Consumers on it now. */
  consumers: number;
  /** Consumers on it now plus those its placed subscribers are due to get. */
  projectedConsumers: number;
  /** Share of one core used over the last sample. */
  cpu: number;
  /** Bits per second sent over the last sample. */
  sendBitrate: number;
  /** The fullest of the three measures against capacity: 1 means full. */
  score: number;
}

/** The whole server's load. */
export interface MediaLoad {
  /** Per live worker. */
  workers: WorkerLoad[];
  /** Consumers the live workers carry at capacity. */
  capacityConsumers: number;
  /** Projected consumers across workers, and those due to participants not yet placed on one. */
  projectedConsumers: number;
}

/** Why a subscriber was refused, in counts only (for the audit log and the structured log). */
export interface CapacityRefusal {
  /** Consumers the workers carry or are due to, before this subscriber. */
  projectedConsumers: number;
  /** Consumers this subscriber would add. */
  joinConsumers: number;
  /** The limit that applied to it. */
  limitConsumers: number;
  /** Whether every worker measured past its CPU ceiling. */
  cpuFull: boolean;
}

/**
 * The admission rule, the one place it is written: a subscriber due `joinConsumers` consumers is
 * refused when the projected consumers would pass the capacity (less the instructors' reserve unless
 * it may use it), or, unless it may use the reserve, when every worker is already past its CPU
 * ceiling (measured, not projected: such a worker already queues packets). No live worker: refused.
 */
export function capacityRefusal(load: MediaLoad, capacity: CapacityOptions, joinConsumers: number, useReserve: boolean): CapacityRefusal | undefined {
  const limitConsumers = Math.floor(load.capacityConsumers * (useReserve ? 1 : 1 - capacity.reservedForInstructors));
  const cpuFull = load.workers.length > 0 && load.workers.every((w) => w.cpu >= capacity.cpuCeiling);
  const over = load.projectedConsumers + joinConsumers > limitConsumers;
  if (!over && !(cpuFull && !useReserve) && load.workers.length > 0) return undefined;
  return { projectedConsumers: load.projectedConsumers, joinConsumers, limitConsumers, cpuFull };
}
