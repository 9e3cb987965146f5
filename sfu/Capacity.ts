// What one media worker can carry, and when a room spreads to a second one. The server fills these
// from the `media.capacity` config section, whose defaults come from the bench on this machine kind.
// A worker's work is per packet it forwards, not per consumer: a 60 kbit/s thumbnail and a 1 Mbit/s
// camera are one consumer each but a tenth of the work apart, and a paused consumer forwards nothing.
// So load is measured in forwarded packets/s (and bits/s), with the consumer count kept as a ceiling
// on what each consumer costs whether it forwards or not (memory, its RTCP).

/** Capacity of one worker, and the room-spread threshold. */
export interface CapacityOptions {
  /**
   * Packets per second one worker forwards without loss to subscribers that do not estimate their
   * bandwidth (plain subscribers, the recorder, pipes); a packet to one that does counts
   * `estimatorPacketCost` packets.
   */
  packetsPerWorker: number;
  /**
   * What one packet to a subscriber whose transport runs a bandwidth estimator costs, in packets to
   * one that does not. Every browser's does (transport-cc): mediasoup feeds each packet it sends
   * there to libwebrtc's send-side controller and pacer.
   */
  estimatorPacketCost: number;
  /** Bits per second one worker sends without loss. */
  sendBitratePerWorker: number;
  /** Consumers one worker holds, forwarding or paused (their fixed cost: memory, RTCP). */
  consumersPerWorker: number;
  /** Share of its core above which a worker takes nothing new (0..1). */
  cpuCeiling: number;
  /** A room's router forwarding (or due to forward) this many packets/s takes no new subscribers. */
  roomSpreadPackets: number;
  /** ...or holding (or due to hold) this many consumers. */
  roomSpreadConsumers: number;
  /** How often each worker's CPU and sent bitrate, and each track's packet rate, are measured, in milliseconds. */
  loadSampleMs: number;
  /** Share of the capacity only instructors and presenters (and the recorder they start) may use (0..0.9). */
  reservedForInstructors: number;
}

/**
 * Defaults for a 2-core AMD EPYC host (the bench machine; bench/results/2026-11-29T00-08-38.json,
 * "capacity of one worker"): one worker forwarded 1 -> 400 (800 consumers, 68,000 packets/s, ~450
 * Mbit/s) with 0 loss at 85-100 % of its core, and lost packets at 1 -> 450. About a quarter is kept
 * spare (50,000 of 68,000 packets/s, 340 of 450 Mbit/s) for what the bench's plain subscribers do not
 * cost: browsers' RTCP, bandwidth estimation, NACKs and simulcast switching. The consumer ceiling
 * bounds what a consumer costs forwarding nothing: 4,000 paused consumers (100 plain transports x 40
 * tracks) took one worker from 13 to 39 MB resident and 2 % of its core (measured on the bench
 * machine, 2026-12-01); 4,000 is five times the 800 the bench forwarded at full rate, and what a
 * 160-participant class with pages of 25 holds on one worker, most of them paused.
 * The same bench with every subscriber running mediasoup's transport-cc estimator, as a browser's
 * transport does (`--plain-estimator=on`), A-B-B-A at 1 -> 300 (51,000 packets/s): 16.1-17.2 µs of
 * the core per packet (82-88 % of it) against 9.7-10.6 without (bench/results/2026-12-01T21-51-52
 * to 21-52-46); 1 -> 50 WebRTC subscribers in the comparison, 15.9-16.8 against 10.4-11.5
 * (21-33-51): a packet to an estimating subscriber costs 1.5-1.6 of one to a plain one.
 * Half a worker's packets (or consumers) on one router sends a room's newcomers to a second worker.
 * The server passes config's media.capacity (same defaults, config/schema.ts); these serve the Sfu
 * used alone (tests, bench).
 */
export const DEFAULT_CAPACITY: CapacityOptions = {
  packetsPerWorker: 50_000,
  estimatorPacketCost: 1.5,
  sendBitratePerWorker: 340_000_000,
  consumersPerWorker: 4_000,
  cpuCeiling: 0.85,
  roomSpreadPackets: 25_000,
  roomSpreadConsumers: 2_000,
  loadSampleMs: 2000,
  reservedForInstructors: 0.1,
};

/** What consumers forward (or are due to): the unit every capacity and load is counted in. */
export interface ForwardLoad {
  /** Packets per second, each to an estimating subscriber counted `estimatorPacketCost` times. */
  packetRate: number;
  /** Bits per second. */
  bitrate: number;
  /** Consumers, forwarding or paused. */
  consumers: number;
}

/** No load. */
export const NO_LOAD: Readonly<ForwardLoad> = Object.freeze({ packetRate: 0, bitrate: 0, consumers: 0 });

/** `load` forwarded to a subscriber that estimates its bandwidth: each packet weighs `estimatorPacketCost`. The one place that cost is applied. */
export function toEstimatingSubscriber(load: ForwardLoad, estimatorPacketCost: number): ForwardLoad {
  return { ...load, packetRate: load.packetRate * estimatorPacketCost };
}

/** `a` plus `b`. */
export function addLoad(a: ForwardLoad, b: ForwardLoad): ForwardLoad {
  return { packetRate: a.packetRate + b.packetRate, bitrate: a.bitrate + b.bitrate, consumers: a.consumers + b.consumers };
}

/** What one worker carries at capacity, in the same units. */
export function workerCapacity(capacity: CapacityOptions): ForwardLoad {
  return { packetRate: capacity.packetsPerWorker, bitrate: capacity.sendBitratePerWorker, consumers: capacity.consumersPerWorker };
}

/** How full `load` is against `limit`: the fullest of packets, bits and consumers; 1 means full. */
export function loadShare(load: ForwardLoad, limit: ForwardLoad): number {
  return Math.max(load.packetRate / limit.packetRate, load.bitrate / limit.bitrate, load.consumers / limit.consumers);
}

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
  /** Consumers on it now plus those its placed subscribers are due to get (= projected.consumers). */
  projectedConsumers: number;
  /** What its consumers forward now (measured per track) plus what its placed subscribers are due. */
  projected: ForwardLoad;
  /** Share of one core used over the last sample. */
  cpu: number;
  /** Bits per second sent over the last sample. */
  sendBitrate: number;
  /** The fullest of packets, bits, consumers and CPU against capacity: 1 means full. */
  score: number;
}

/** The whole server's load. */
export interface MediaLoad {
  /** Per live worker. */
  workers: WorkerLoad[];
  /** What the live workers carry at capacity. */
  capacity: ForwardLoad;
  /** Projected load across workers, plus what participants not yet placed on one are due. */
  projected: ForwardLoad;
  /** Consumers the live workers hold at capacity (= capacity.consumers). */
  capacityConsumers: number;
  /** Projected consumers (= projected.consumers). */
  projectedConsumers: number;
}

/** Which limit refused a subscriber. */
export type CapacityLimit = 'packets' | 'bitrate' | 'consumers' | 'cpu' | 'no_worker';

/** Why a subscriber was refused, in counts only (for the audit log and the structured log). */
export interface CapacityRefusal {
  /** The first limit it would pass. */
  limit: CapacityLimit;
  /** Packets/s the workers forward or are due to, before this subscriber. */
  projectedPacketRate: number;
  /** Packets/s this subscriber would add. */
  joinPacketRate: number;
  /** The packets/s limit that applied to it. */
  limitPacketRate: number;
  /** Bits/s, the same three. */
  projectedBitrate: number;
  joinBitrate: number;
  limitBitrate: number;
  /** Consumers, the same three. */
  projectedConsumers: number;
  joinConsumers: number;
  limitConsumers: number;
  /** Whether every worker measured past its CPU ceiling. */
  cpuFull: boolean;
}

/**
 * The admission rule, the one place it is written: a subscriber due `join` (the packets, bits and
 * consumers of what it will receive) is refused when the projected load plus it would pass the
 * capacity in any unit (less the instructors' reserve unless it may use it), or, unless it may use
 * the reserve, when every worker is already past its CPU ceiling (measured, not projected: such a
 * worker already queues packets). No live worker: refused.
 */
export function capacityRefusal(load: MediaLoad, capacity: CapacityOptions, join: ForwardLoad, useReserve: boolean): CapacityRefusal | undefined {
  const share = useReserve ? 1 : 1 - capacity.reservedForInstructors;
  const limit: ForwardLoad = {
    packetRate: Math.floor(load.capacity.packetRate * share),
    bitrate: Math.floor(load.capacity.bitrate * share),
    consumers: Math.floor(load.capacity.consumers * share),
  };
  const cpuFull = load.workers.length > 0 && load.workers.every((w) => w.cpu >= capacity.cpuCeiling);
  const after = addLoad(load.projected, join);
  const passed: CapacityLimit | undefined =
    load.workers.length === 0 ? 'no_worker'
    : after.packetRate > limit.packetRate ? 'packets'
    : after.bitrate > limit.bitrate ? 'bitrate'
    : after.consumers > limit.consumers ? 'consumers'
    : cpuFull && !useReserve ? 'cpu'
    : undefined;
  if (!passed) return undefined;
  return {
    limit: passed,
    projectedPacketRate: Math.round(load.projected.packetRate),
    joinPacketRate: Math.round(join.packetRate),
    limitPacketRate: limit.packetRate,
    projectedBitrate: Math.round(load.projected.bitrate),
    joinBitrate: Math.round(join.bitrate),
    limitBitrate: limit.bitrate,
    projectedConsumers: load.projected.consumers,
    joinConsumers: join.consumers,
    limitConsumers: limit.consumers,
    cpuFull,
  };
}

/** A refusal as one line for an error message or a log. */
export function describeRefusal(refusal: CapacityRefusal): string {
  const { limit: l } = refusal;
  if (l === 'no_worker') return 'no media worker is running';
  if (l === 'cpu') return 'every worker is past its CPU ceiling';
  const [projected, join, limit, unit] =
    l === 'packets' ? [refusal.projectedPacketRate, refusal.joinPacketRate, refusal.limitPacketRate, 'packets/s']
    : l === 'bitrate' ? [refusal.projectedBitrate, refusal.joinBitrate, refusal.limitBitrate, 'bit/s']
    : [refusal.projectedConsumers, refusal.joinConsumers, refusal.limitConsumers, 'consumers'];
  return `${projected} + ${join} ${unit} would pass the limit of ${limit}${refusal.cpuFull ? ' (every worker past its CPU ceiling)' : ''}`;
}
