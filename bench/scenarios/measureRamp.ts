// Ramp past capacity: one lecture through the product's media plane (LecternFanout), subscribers
// added in steps past the configured capacity. The product's admission must refuse those past it
// (`at_capacity`: LecternFanout counts that reason and no other) while the admitted ones lose
// nothing: after each step a window of the generator's packets is counted at every admitted
// subscriber, with each worker's CPU over the window and the consumers the product placed on it.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CapacityOptions } from '../../sfu/index.js';
import { LecternFanout, type LecternFanoutOptions } from '../lectern/LecternFanout.js';
import type { SubscriberKind } from '../lib/FanoutTarget.js';
import { RtpGenerator } from '../lib/RtpGenerator.js';
import { Sink } from '../lib/Sink.js';
import { cpuMicros, udpDropsOfProcesses, udpRcvbufErrors } from '../lib/proc.js';

/** One step of the ramp. */
export interface RampStep {
  /** Subscribers asked for so far. */
  asked: number;
  /** Admitted so far. */
  admitted: number;
  /** Refused at_capacity so far (of them, in this step). */
  refused: number;
  refusedThisStep: number;
  /** Window packets expected at the admitted subscribers, and received. */
  expectedPackets: number;
  receivedPackets: number;
  loss: number;
  /** Streams seen in the window (2 per admitted subscriber) and the fewest packets on one. */
  streamsSeen: number;
  minPerStream: number;
  /** Per worker: share of a core over the window (%) and the consumers the product placed on it. */
  workers: { index: number; cpuPercent: number; consumers: number }[];
  sfuSocketDrops: number;
  /** Receive-buffer drops outside the SFU: the receiving side lost packets, so the step says nothing. */
  discarded: boolean;
}

/** What the ramp measured. */
export interface RampResult {
  capacity: Partial<CapacityOptions>;
  /** Consumers the product admits subscribers up to: workers x consumersPerWorker less the reserve. */
  limitConsumers: number;
  subscriberKind: SubscriberKind;
  layout: string;
  steps: RampStep[];
  loadAverage: number;
}

/** Ramp subscribers through `steps` (cumulative totals) on a fresh product fan-out. */
export async function measureRamp(
  options: LecternFanoutOptions & { capacity: Partial<CapacityOptions> },
  steps: number[],
  kind: SubscriberKind,
  timing: { warmupMs: number; windowSeconds: number },
): Promise<RampResult> {
  const sink = await Sink.create();
  let target: LecternFanout | undefined;
  let generator: RtpGenerator | undefined;
  try {
    target = await LecternFanout.create(options);
    generator = await RtpGenerator.create(target.publisher);
    generator.start();
    await sleep(300);
    const fanout = target;
    const gen = generator;
    const result: RampResult = {
      capacity: options.capacity,
      limitConsumers: Math.floor(fanout.sfu.load().capacityConsumers * (1 - fanout.sfu.capacity.reservedForInstructors)),
      subscriberKind: kind,
      layout: '',
      steps: [],
      loadAverage: 0,
    };
    let asked = 0;
    let admitted = 0;
    let refused = 0;
    for (const total of steps) {
      if (total <= asked) continue;
      const added = await fanout.addSubscribers(total - asked, kind, sink);
      asked = total;
      admitted += added.admitted;
      refused += added.refused;
      await sleep(timing.warmupMs);

      const pps = gen.packetsPerSecond;
      const start = gen.counter + Math.ceil(pps * 0.2);
      const end = start + Math.round(pps * timing.windowSeconds);
      await sink.setWindow(start, end);
      await until(() => gen.counter >= start, 5000);
      const cpu0 = fanout.pids.map(cpuMicros);
      const drops0 = udpRcvbufErrors();
      const sfuDrops0 = udpDropsOfProcesses(fanout.pids);
      const t0 = process.hrtime.bigint();
      await until(() => gen.counter >= end, timing.windowSeconds * 1000 + 5000);
      const cpu1 = fanout.pids.map(cpuMicros);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const expected = (end - start) * admitted;
      const report = await sink.settledReport(expected);
      const sfuDrops = udpDropsOfProcesses(fanout.pids) - sfuDrops0;
      const otherDrops = Math.max(0, udpRcvbufErrors() - drops0 - sfuDrops);
      const load = fanout.sfu.load().workers;
      result.steps.push({
        asked,
        admitted,
        refused,
        refusedThisStep: added.refused,
        expectedPackets: expected,
        receivedPackets: report.received,
        loss: expected > 0 ? Math.max(0, 1 - report.received / expected) : 0,
        streamsSeen: report.streams,
        minPerStream: report.streams > 0 ? report.minPerStream : 0,
        workers: fanout.sfu.pool.workers.map((w, i) => ({
          index: w.index,
          cpuPercent: ((cpu1[i]! - cpu0[i]!) / 1e6 / seconds) * 100,
          consumers: load.find((l) => l.index === w.index)?.consumers ?? 0,
        })),
        sfuSocketDrops: sfuDrops,
        discarded: otherDrops > 0,
      });
      console.log(`ramp: asked ${asked}, admitted ${admitted}, refused ${refused}, loss ${(100 * result.steps.at(-1)!.loss).toFixed(2)} %`);
    }
    result.layout = fanout.layout;
    result.loadAverage = Number(os.loadavg()[0]!.toFixed(2));
    return result;
  } finally {
    generator?.close();
    await sink.close();
    await target?.close();
  }
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the generator');
    await sleep(5);
  }
}
