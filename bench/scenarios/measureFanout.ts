// One measured fan-out run: a fresh SFU, one publisher, N subscribers, a warm-up, then a window
// defined by the generator's packet counter. Loss is exact (every packet in the window was expected
// at every subscriber); CPU is the SFU processes' user+system time across the window; latency is
// receive time minus the send time written in the payload.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FanoutTarget, SubscriberKind } from '../lib/FanoutTarget.js';
import { LatencyHistogram } from '../lib/LatencyHistogram.js';
import { RtpGenerator } from '../lib/RtpGenerator.js';
import { Sink } from '../lib/Sink.js';
import { cpuMicros, pinToCpu, rssBytes, udpDropsOfProcesses, udpRcvbufErrors } from '../lib/proc.js';

/** Timing of a run. */
export interface FanoutTiming {
  warmupMs: number;
  windowSeconds: number;
  /** Pace the publisher's video packets (see RtpGeneratorOptions.paced); default back to back. */
  paced?: boolean;
  /** Pin every thread of the SFU's processes to this CPU (the bench keeps to the other one). */
  sfuCpu?: number;
}

/** What one fan-out run measured. */
export interface FanoutResult {
  sfu: string;
  layout: string;
  subscribers: number;
  /** Of those, refused by the SFU's admission at capacity (not expected to receive; Lectern only). */
  refused: number;
  subscriberKind: SubscriberKind;
  /** How the publisher sends a frame's packets. */
  publisher: 'burst' | 'paced';
  setupMs: number;
  windowSeconds: number;
  expectedPackets: number;
  receivedPackets: number;
  loss: number;
  forwardedPerSecond: number;
  sfuCpuPercent: number;
  cpuMicrosPerPacket: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  rssPerSubscriberKiB: number;
  /** Receive-buffer drops in the window outside the SFU's own sockets (the sink's, the generator's). */
  rcvbufErrors: number;
  /** Receive-buffer drops at the SFU's own sockets: the SFU fell behind its input (counted as SFU loss). */
  sfuSocketDrops: number;
  /** Drops outside the SFU: the receiving side, not the SFU, lost packets, so the run says nothing. */
  discarded: boolean;
  streamsSeen: number;
  /** Copies the SFU sent one sendmsg each because io_uring was full (whole run); absent without io_uring. */
  ioUringFallbacks?: number;
  /** SRTP packets the sink could not decrypt or authenticate in the window (counted as lost). */
  srtpFailures: number;
  /** What counted the packets. */
  sink: string;
  /** 1-minute load average at the end of the run (other work on the machine skews the numbers). */
  loadAverage: number;
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the generator');
    await sleep(5);
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** Run one fan-out measurement against a freshly created target; closes it afterwards. */
export async function measureFanout(
  makeTarget: (sink: Sink) => Promise<FanoutTarget>,
  subscribers: number,
  kind: SubscriberKind,
  timing: FanoutTiming,
): Promise<FanoutResult> {
  const sink = await Sink.create();
  let target: FanoutTarget;
  try {
    target = await makeTarget(sink);
    if (timing.sfuCpu !== undefined && !target.pids.every((pid) => pinToCpu(pid, timing.sfuCpu!))) {
      await target.close();
      throw new Error(`could not pin the SFU to CPU ${timing.sfuCpu} (taskset missing?)`);
    }
  } catch (error) {
    await sink.close();
    throw error;
  }
  let generator: RtpGenerator | undefined;
  try {
    generator = await RtpGenerator.create({ ...target.publisher, paced: !!timing.paced });
    generator.start();
    await sleep(300);
    const rssBefore = sum(target.pids.map(rssBytes));
    const setupStart = Date.now();
    const refused = (await target.addSubscribers(subscribers, kind, sink))?.refused ?? 0;
    const admitted = subscribers - refused;
    const setupMs = Date.now() - setupStart;
    await sleep(timing.warmupMs);

    const pps = generator.packetsPerSecond;
    const start = generator.counter + Math.ceil(pps * 0.2);
    const end = start + Math.round(pps * timing.windowSeconds);
    await sink.setWindow(start, end);
    const gen = generator;
    await until(() => gen.counter >= start, 5000);
    const cpu0 = sum(target.pids.map(cpuMicros));
    const drops0 = udpRcvbufErrors();
    const sfuDrops0 = udpDropsOfProcesses(target.pids);
    const t0 = process.hrtime.bigint();
    await until(() => gen.counter >= end, timing.windowSeconds * 1000 + 5000);
    const cpu1 = sum(target.pids.map(cpuMicros));
    const t1 = process.hrtime.bigint();
    const rssAfter = sum(target.pids.map(rssBytes));
    // Let the last packets of the window arrive before calling anything lost.
    const report = await sink.settledReport((end - start) * admitted);
    const drops1 = udpRcvbufErrors();
    const sfuDrops = udpDropsOfProcesses(target.pids) - sfuDrops0;
    const otherDrops = Math.max(0, drops1 - drops0 - sfuDrops);

    const seconds = Number(t1 - t0) / 1e9;
    const expected = (end - start) * admitted;
    const ioUringFallbacks = await target.ioUringFallbacks?.();
    const histogram = new LatencyHistogram(report.histogram);
    return {
      sfu: target.name,
      layout: timing.sfuCpu === undefined ? target.layout : `${target.layout}, on CPU ${timing.sfuCpu}`,
      subscribers,
      refused,
      subscriberKind: kind,
      publisher: timing.paced ? 'paced' : 'burst',
      setupMs,
      windowSeconds: Number(seconds.toFixed(3)),
      expectedPackets: expected,
      receivedPackets: report.received,
      loss: expected > 0 ? Math.max(0, 1 - report.received / expected) : 0,
      forwardedPerSecond: Math.round(report.received / seconds),
      sfuCpuPercent: ((cpu1 - cpu0) / 1e6 / seconds) * 100,
      cpuMicrosPerPacket: report.received > 0 ? (cpu1 - cpu0) / report.received : Number.NaN,
      latencyP50Ms: histogram.quantileMs(0.5),
      latencyP99Ms: histogram.quantileMs(0.99),
      rssPerSubscriberKiB: target.pids.length && admitted > 0 ? (rssAfter - rssBefore) / 1024 / admitted : Number.NaN,
      rcvbufErrors: otherDrops,
      sfuSocketDrops: sfuDrops,
      discarded: otherDrops > 0,
      streamsSeen: report.streams,
      ...(ioUringFallbacks !== undefined ? { ioUringFallbacks } : {}),
      srtpFailures: report.srtpFailures,
      sink: kind === 'webrtc' ? 'werift peers (Node thread)' : sink.plainSinkKind,
      loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
    };
  } finally {
    generator?.close();
    await sink.close();
    await target.close();
  }
}
