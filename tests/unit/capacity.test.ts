// The admission rule on its own (sfu/Capacity capacityRefusal): load in packets/s, bits/s and
// consumers against what the live workers carry, the instructors' reserve, the CPU ceiling, and no
// worker at all. Plain data in, a refusal (counts only) or nothing out.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPACITY, capacityRefusal, loadShare, type CapacityOptions, type ForwardLoad, type MediaLoad, type WorkerLoad } from '../../sfu/index.js';
import { Value } from '@sinclair/typebox/value';
import { MediaCapacitySchema } from '../../config/schema.js';

const capacity: CapacityOptions = { ...DEFAULT_CAPACITY, packetsPerWorker: 1000, sendBitratePerWorker: 10_000_000, consumersPerWorker: 100, reservedForInstructors: 0.2 };

function worker(index: number, projected: ForwardLoad, cpu = 0.1): WorkerLoad {
  return { index, pid: 1000 + index, routers: 1, consumers: projected.consumers, projectedConsumers: projected.consumers, projected, cpu, sendBitrate: 0, score: 0 };
}

/** Two workers' load, summed as the Sfu does. */
function load(workers: WorkerLoad[]): MediaLoad {
  const total = (pick: (l: ForwardLoad) => number) => workers.reduce((n, w) => n + pick(w.projected), 0);
  const projected = { packetRate: total((l) => l.packetRate), bitrate: total((l) => l.bitrate), consumers: total((l) => l.consumers) };
  const n = workers.length;
  const cap = { packetRate: n * capacity.packetsPerWorker, bitrate: n * capacity.sendBitratePerWorker, consumers: n * capacity.consumersPerWorker };
  return { workers, capacity: cap, projected, capacityConsumers: cap.consumers, projectedConsumers: projected.consumers };
}

const camera = (n: number): ForwardLoad => ({ packetRate: 200 * n, bitrate: 1_000_000 * n, consumers: n });
const thumbnail = (n: number): ForwardLoad => ({ packetRate: 10 * n, bitrate: 40_000 * n, consumers: n });

describe('capacityRefusal', () => {
  it('refuses by forwarded packets, not by consumer count: 40 thumbnails fit where 3 cameras do not', () => {
    // Two workers of 1,000 packets/s, 20 % reserved: a student is admitted up to 1,600.
    const busy = load([worker(0, camera(4)), worker(1, camera(3))]); // 1,400 packets/s, 7 consumers
    expect(capacityRefusal(busy, capacity, thumbnail(20), false)).toBeUndefined();
    expect(capacityRefusal(busy, capacity, camera(1), false)).toBeUndefined(); // exactly 1,600
    const refusal = capacityRefusal(busy, capacity, camera(2), false);
    expect(refusal).toEqual({
      limit: 'packets',
      projectedPacketRate: 1400,
      joinPacketRate: 400,
      limitPacketRate: 1600,
      projectedBitrate: 7_000_000,
      joinBitrate: 2_000_000,
      limitBitrate: 16_000_000,
      projectedConsumers: 7,
      joinConsumers: 2,
      limitConsumers: 160,
      cpuFull: false,
    });
  });

  it('lets instructors use the reserve, in every unit', () => {
    const full = load([worker(0, camera(4)), worker(1, camera(4))]); // 1,600 of 2,000 packets/s
    expect(capacityRefusal(full, capacity, camera(1), false)?.limit).toBe('packets');
    expect(capacityRefusal(full, capacity, camera(2), true)).toBeUndefined();
    expect(capacityRefusal(full, capacity, camera(3), true)?.limit).toBe('packets');
  });

  it('counts paused consumers against the consumer ceiling though they forward nothing', () => {
    const paused = load([worker(0, { packetRate: 0, bitrate: 0, consumers: 100 }), worker(1, { packetRate: 0, bitrate: 0, consumers: 55 })]);
    expect(capacityRefusal(paused, capacity, thumbnail(5), false)).toBeUndefined(); // 160 consumers
    expect(capacityRefusal(paused, capacity, thumbnail(6), false)?.limit).toBe('consumers');
  });

  it('refuses by bits per second too', () => {
    const heavy = { packetRate: 10, bitrate: 15_000_000, consumers: 1 };
    expect(capacityRefusal(load([worker(0, heavy), worker(1, heavy)]), capacity, { packetRate: 1, bitrate: 2_000_000, consumers: 1 }, false)?.limit).toBe('bitrate');
  });

  it('refuses students when every worker is past its CPU ceiling, instructors still from the reserve', () => {
    const hot = load([worker(0, thumbnail(1), 0.9), worker(1, thumbnail(1), 0.95)]);
    expect(capacityRefusal(hot, capacity, thumbnail(1), false)).toMatchObject({ limit: 'cpu', cpuFull: true });
    expect(capacityRefusal(hot, capacity, thumbnail(1), true)).toBeUndefined();
    // One worker still below its ceiling: placement can use it.
    expect(capacityRefusal(load([worker(0, thumbnail(1), 0.9), worker(1, thumbnail(1), 0.5)]), capacity, thumbnail(1), false)).toBeUndefined();
  });

  it('refuses everyone when no worker is running', () => {
    expect(capacityRefusal(load([]), capacity, thumbnail(1), true)?.limit).toBe('no_worker');
  });

  it('scores a load by its fullest unit', () => {
    expect(loadShare({ packetRate: 500, bitrate: 1, consumers: 1 }, { packetRate: 1000, bitrate: 10, consumers: 10 })).toBe(0.5);
    expect(loadShare({ packetRate: 1, bitrate: 1, consumers: 9 }, { packetRate: 1000, bitrate: 10, consumers: 10 })).toBe(0.9);
  });

  it('keeps the schema defaults and the sfu defaults in step', () => {
    const fromSchema = Value.Default(MediaCapacitySchema, {}) as Record<string, unknown>;
    expect(fromSchema).toEqual({ ...DEFAULT_CAPACITY });
  });
});

describe('nodeLoad', () => {
  it('reports the fuller of participants and the media load admission refuses by', async () => {
    const { nodeLoad } = await import('../../server/cluster/nodeLoad.js');
    const media = load([worker(0, camera(4)), worker(1, camera(4))]); // 1,600 of 2,000 packets/s
    expect(nodeLoad(10, 100)).toBe(0.1);
    expect(nodeLoad(10, 100, media)).toBe(0.8);
    expect(nodeLoad(90, 100, media)).toBe(0.9);
    expect(nodeLoad(0, 100, load([]))).toBe(1);
  });
});
