// `npm run bench`: Lectern's numbers, measured, next to Janus on the same machine in the same run.
// Never part of `npm test`. Re-executes itself inside a network namespace with only loopback
// addresses (bench/in-netns.sh), prints tables and writes bench/results/<timestamp>.json.
//
//   npm run bench                          all scenarios
//   npm run bench -- --only=fanout,signalling --window=5 --pairs=3 --sessions=1000
//   npm run bench -- --only=seminar,joinlatency --seminar-participants=12,6 --seminar-browsers=2 --joins=12   (Chromium)
//   npm run bench -- --only=reconnect --reconnect-rounds=3   (Chromium: signalling cut, UDP black-hole, worker SIGKILL)
//   npm run bench -- --only=compare --pairs=2 --compare-subscribers=10 --compare-peers=lectern,pion-nack,pion-no-nack
//   npm run bench -- --only=fuzz,auditlog --fuzz-frames=100000 --audit-entries=1000,100000,1000000
//   npm run bench -- --only=class --class-participants=60 --class-cameras=12 --class-page=25   (bots only)
//   npm run bench -- --only=ramp --ramp-capacity=200 --ramp-subscribers=60,120,180,240   (past capacity: refused at_capacity, 0 loss for those in)
//   npm run bench -- --only=cluster --cluster-rooms=30 --cluster-joins=3   (3 node processes + redis-server, signalling only)
//   npm run bench -- --only=failover --failover-repetitions=5   (3 node processes + redis-server, Chromium: home SIGKILL -> decoding again)
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { LecternFanout, UNBOUNDED_CAPACITY, type Estimator, type SrtpSuite } from './lectern/LecternFanout.js';
import { JanusFanout } from './janus/JanusFanout.js';
import { janusInstalled } from './janus/JanusServer.js';
import { PionFanout } from './pion/PionFanout.js';
import { pionSfuBinary } from './pion/PionServer.js';
import { DirectTarget } from './lib/DirectTarget.js';
import { Sink } from './lib/Sink.js';
import { nativeSinkSettings } from './lib/NativeUdpSink.js';
import type { FanoutTarget, SubscriberKind } from './lib/FanoutTarget.js';
import { loadWerift } from './lib/werift.js';
import { pinToCpu, sysctl } from './lib/proc.js';
import { median } from './lib/stats.js';
import { measureFanout, type FanoutResult } from './scenarios/measureFanout.js';
import { measureRamp, type RampResult } from './scenarios/measureRamp.js';
import { measureSignalling, type SignallingResult } from './scenarios/signalling.js';
import { measureSeminar, type SeminarResult } from './scenarios/seminar.js';
import { measureJoinLatency, type JoinLatencyResult } from './scenarios/joinLatency.js';
import { measureReconnect, type ReconnectResult } from './scenarios/reconnect.js';
import { measureFuzz, type FuzzResult } from './scenarios/fuzz.js';
import { measureAuditLog, type AuditLogResult } from './scenarios/auditLog.js';
import { measureClass, type ClassResult } from './scenarios/class.js';
import { classOptions, measureRecording, measureRecordingWithClass, type RecordingResult, type RecordingWithClassResult } from './scenarios/recording.js';
import { measureCluster, type ClusterResult } from './scenarios/cluster.js';
import { measureClusterFanout, type ClusterFanoutResult } from './scenarios/clusterFanout.js';
import { measureFailover, type FailoverResult } from './scenarios/failover.js';
import { parseConfig } from '../config/index.js';
import { DEFAULT_CAPACITY } from '../sfu/index.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'fanout,capacity,ramp,compare,signalling,fuzz,auditlog,joinlatency,reconnect,seminar,class,recording,cluster,cluster-fanout,failover' },
    'failover-repetitions': { type: 'string', default: '5' },
    // 1 -> N over two node processes; the home's share ends where its admission refuses (its consumers per worker: '' = the product's).
    'cluster-fanout-subscribers': { type: 'string', default: '500' },
    'cluster-fanout-home-capacity': { type: 'string', default: '' },
    'cluster-rooms': { type: 'string', default: '30' },
    'cluster-joins': { type: 'string', default: '3' },
    'cluster-ttl': { type: 'string', default: '2' },
    'cluster-heartbeat': { type: 'string', default: '0.5' },
    'cluster-drain': { type: 'string', default: '3' },
    'fuzz-frames': { type: 'string', default: '100000' },
    'audit-entries': { type: 'string', default: '1000,100000,1000000' },
    'recording-tracks': { type: 'string', default: '1,8' },
    // participants,cameras,tracks: record that many of a class's tracks alongside it ('' = skip).
    'recording-class': { type: 'string', default: '' },
    subscribers: { type: 'string', default: '10,50,100,250,500' },
    'fanout-kind': { type: 'string', default: 'srtp' },
    'srtp-suite': { type: 'string', default: 'AEAD_AES_256_GCM' },
    'capacity-subscribers': { type: 'string', default: '300,350,400,450,500,550,600' },
    pin: { type: 'boolean', default: false },
    'io-uring': { type: 'string', default: 'on' },
    'sink-interval-us': { type: 'string', default: '1000' },
    paced: { type: 'boolean', default: false },
    'paced-point': { type: 'string', default: '50' },
    // Bandwidth estimation of Lectern's WebRTC subscribers in the comparison: none (as Janus's and
    // pion's), remb or transport-cc (what browsers get); peer lectern-bwe runs with --lectern-bwe.
    'lectern-estimator': { type: 'string', default: 'none' },
    'lectern-bwe': { type: 'string', default: 'transport-cc' },
    // Fan-out and capacity: plain subscribers with mediasoup's bandwidth estimator on (what it costs a worker).
    'plain-estimator': { type: 'string', default: 'off' },
    'room-spread-consumers': { type: 'string', default: String(DEFAULT_CAPACITY.roomSpreadConsumers) },
    'ramp-capacity': { type: 'string', default: '200' },
    'ramp-subscribers': { type: 'string', default: '60,120,180,240' },
    window: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    pairs: { type: 'string', default: '6' },
    'compare-subscribers': { type: 'string', default: '50' },
    'compare-window': { type: 'string', default: '8' },
    // In the comparison, each SFU on CPU 0 and the bench (generator, werift subscribers) on CPU 1
    // ('off': the scheduler places them, and they compete for both cores).
    'compare-pin': { type: 'string', default: 'on' },
    'compare-peers': { type: 'string', default: 'lectern,janus,pion-nack,pion-no-nack' },
    'pion-gomaxprocs': { type: 'string', default: '1' },
    sessions: { type: 'string', default: '1000,10000' },
    'seminar-participants': { type: 'string', default: '12,6' },
    'seminar-browsers': { type: 'string', default: '2' },
    'seminar-camera': { type: 'string', default: '320x180@15' },
    'seminar-window': { type: 'string', default: '30' },
    joins: { type: 'string', default: '20' },
    'class-participants': { type: 'string', default: '60' },
    'class-cameras': { type: 'string', default: '12' },
    'class-microphones': { type: 'string', default: '3' },
    'class-page': { type: 'string', default: '25' },
    'class-max-video': { type: 'string', default: String(parseConfig({}).rooms.maxVideoConsumers) },
    'class-clip': { type: 'string', default: '160x90@15' },
    'class-bot-threads': { type: 'string', default: '2' },
    'class-window': { type: 'string', default: '30' },
    'reconnect-rounds': { type: 'string', default: '3' },
    'joiner-sends': { type: 'string', default: 'yes' },
    'time-limit': { type: 'string', default: '2700' },
    'no-netns': { type: 'boolean', default: false },
  },
});

// Everything runs where only 127.0.0.0/8 exists: nothing can leave the machine, and the UDP drop
// counters in /proc/net/snmp belong to this run alone.
if (process.env.NETNS_LOOPBACK_ONLY !== '1' && !args['no-netns']) {
  const result = spawnSync('bash', [join(benchDir, 'in-netns.sh'), process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

// Self-stopping: whatever hangs, the bench ends, keeping what it measured so far.
const limitSeconds = Number(args['time-limit']);
setTimeout(() => {
  console.error(`bench: time limit of ${limitSeconds} s reached, stopping`);
  notes.push(`stopped by the time limit (--time-limit=${limitSeconds}): later scenarios did not run or did not finish`);
  finish(2);
}, limitSeconds * 1000).unref();

const only = new Set(args.only.split(','));
nativeSinkSettings.readIntervalMicros = Number(args['sink-interval-us']);
const timing = { warmupMs: Number(args.warmup) * 1000, windowSeconds: Number(args.window), paced: args.paced };
const roomSpreadConsumers = Number(args['room-spread-consumers']);
const notes: string[] = [];

function version(cmd: string, argv: string[]): string | undefined {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

function dpkgVersion(pkg: string): string | undefined {
  return version('dpkg-query', ['-W', '-f=${Version}', pkg]);
}

const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  mediasoup: (JSON.parse(readFileSync(join(benchDir, '..', 'node_modules', 'mediasoup', 'package.json'), 'utf8')) as { version: string }).version,
  janus: dpkgVersion('janus'),
  pion: dpkgVersion('golang-github-pion-webrtc.v3-dev'),
  loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  rmemMax: sysctl('net.core.rmem_max'),
};

/** The SFUs of the side-by-side comparison. */
type ComparePeer = 'lectern' | 'lectern-bwe' | 'janus' | 'pion-nack' | 'pion-no-nack';
/** Lectern's CPU per forwarded packet and p99 over each other peer's, median over valid pairs. */
type CompareRatios = Partial<Record<ComparePeer, { validPairs: number; medianCpuRatio: number; medianP99Ratio: number }>>;

/** A bandwidth estimator named by a --lectern-* option. */
function estimatorArg(option: 'lectern-estimator' | 'lectern-bwe'): Estimator {
  const value = args[option];
  if (value !== 'none' && value !== 'remb' && value !== 'transport-cc') throw new Error(`--${option}=none|remb|transport-cc (got '${value}')`);
  return value;
}

/** Why the pion SFU cannot run here (its build failed: the build script says why), or undefined. */
function pionUnavailable(): string | undefined {
  try {
    pionSfuBinary();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const pct = (n: number): string => `${(n * 100).toFixed(2)}%`;

function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

function fanoutRows(results: FanoutResult[]): string[][] {
  return results.map((r) => [
    r.sfu,
    r.layout,
    r.subscriberKind,
    r.publisher,
    String(r.subscribers),
    String(r.forwardedPerSecond),
    fmt(r.sfuCpuPercent),
    fmt(r.cpuMicrosPerPacket, 2),
    pct(r.loss),
    fmt(r.latencyP50Ms, 2),
    fmt(r.latencyP99Ms, 2),
    fmt(r.rssPerSubscriberKiB, 0),
    fmt(r.loadAverage, 1),
    [
      r.discarded ? `DISCARDED (${r.rcvbufErrors} rcvbuf drops at receivers)` : 'ok',
      ...(r.sfuSocketDrops ? [`SFU overloaded: ${r.sfuSocketDrops} drops at its sockets`] : []),
      ...(r.srtpFailures ? [`${r.srtpFailures} SRTP failures`] : []),
      ...(r.refused ? [`${r.refused} refused at_capacity`] : []),
      ...(r.ioUringFallbacks ? [`io_uring full: ${r.ioUringFallbacks} copies sent one by one`] : []),
    ].join(', '),
  ]);
}
const FANOUT_HEADER = ['sfu', 'layout', 'subscribers are', 'publisher', 'N', 'fwd pkt/s', 'sfu cpu %', 'cpu µs/pkt', 'loss', 'p50 ms', 'p99 ms', 'RSS KiB/sub', 'load', 'run'];

const output: {
  startedAt: string;
  machine: typeof machine;
  notes: string[];
  fanout: FanoutResult[];
  capacity?: { points: FanoutResult[]; maxCleanForwardedPerSecond: number; maxCleanSubscribers: number };
  comparison?: {
    subscribers: number;
    peers: ComparePeer[];
    pairs: Partial<Record<ComparePeer, FanoutResult>>[];
    ratios: CompareRatios;
    medianCpuRatio: number;
    medianP99Ratio: number;
    validPairs: number;
  };
  signalling: SignallingResult[];
  seminar: SeminarResult[];
  joinLatency?: JoinLatencyResult;
  reconnect?: ReconnectResult;
  fuzz?: FuzzResult;
  auditLog?: AuditLogResult;
  class?: ClassResult;
  recording?: RecordingResult[];
  ramp?: RampResult;
  cluster?: ClusterResult;
  clusterFanout?: ClusterFanoutResult;
  failover?: FailoverResult;
  recordingWithClass?: RecordingWithClassResult;
} = { startedAt: new Date().toISOString(), machine, notes, fanout: [], signalling: [], seminar: [] };

console.log(`Lectern bench — ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, mediasoup ${machine.mediasoup}, janus ${machine.janus ?? 'not installed'}, pion ${machine.pion ?? 'not installed'}`);
console.log(`load average at start ${machine.loadAverageAtStart.join(' ')} (other work on the machine skews every number)`);

// Subscribers of the high-N points: SRTP PlainTransport consumers (mediasoup encrypts every copy, as
// for browsers) when the C sink could be built against libsrtp2, plain RTP otherwise, and said so.
let fanoutKind = args['fanout-kind'] as SubscriberKind;
if (fanoutKind !== 'srtp' && fanoutKind !== 'plain-rtp') throw new Error('--fanout-kind=srtp|plain-rtp');
if (fanoutKind === 'srtp' && !Sink.srtpCapable) {
  fanoutKind = 'plain-rtp';
  notes.push('fan-out: the C sink could not be built against libsrtp2 (apt-get install gcc libsrtp2-dev): subscribers are plain RTP, which understates CPU per packet');
}
const srtpSuite = args['srtp-suite'] as SrtpSuite;
const fanoutSubscribers = fanoutKind === 'srtp' ? `SRTP PlainTransport consumers (${srtpSuite})` : 'PlainTransport consumers (no SRTP)';
if (args['io-uring'] !== 'on' && args['io-uring'] !== 'off') throw new Error('--io-uring=on|off');
const ioUring = args['io-uring'] === 'on';
// Through the product: one room, its placement spreading it to worker 2 once its router holds
// roomSpreadConsumers consumers, admission at the product's default capacity.
// Plain subscribers with mediasoup's estimator on, as a browser's transport has it (--plain-estimator=on).
const plainEstimator: Estimator = args['plain-estimator'] === 'on' ? 'transport-cc' : 'none';
const lecternFanout = () => () => LecternFanout.create({ pin: args.pin, srtpSuite, ioUring, estimator: plainEstimator, capacity: { roomSpreadConsumers } });

// 1. Lecture fan-out through Lectern, SRTP (or plain-RTP) subscribers into the counting sink.
if (only.has('fanout')) {
  const baseline = await measureFanout((sink) => DirectTarget.create(sink), 1, 'plain-rtp', timing);
  output.fanout.push(baseline);
  for (const n of args.subscribers.split(',').map(Number)) {
    console.log(`fan-out: lectern 1 -> ${n} ...`);
    output.fanout.push(await measureFanout(lecternFanout(), n, fanoutKind, timing));
  }
  // The latency target's point again, with the publisher paced as Chrome's pacer sends (a frame's
  // packets spread over ~half a frame interval) rather than back to back.
  const pacedAt = Number(args['paced-point']);
  if (!timing.paced && pacedAt > 0) {
    console.log(`fan-out: lectern 1 -> ${pacedAt}, paced publisher ...`);
    output.fanout.push(await measureFanout(lecternFanout(), pacedAt, fanoutKind, { ...timing, paced: true }));
  }
  notes.push(
    'fan-out: publisher = plain-RTP generator (VP8 ~1 Mbit/s, 30 fps, 4 packets/frame + opus 20 ms) into a PlainTransport producer; ' +
      `subscribers = ${fanoutSubscribers} into a counting UDP sink (${output.fanout.at(-1)?.sink}); ` +
      `through the product's media plane (RoomMedia: PlainPublisher -> PlainSubscribers), its placement spreading the room to the second worker (tracks piped) once a router holds ${roomSpreadConsumers} consumers; subscribers its admission refuses at_capacity are reported, not expected to receive. ` +
      'Latency runs from the generator stamping a packet to the kernel queueing its copy on the sink socket (SO_TIMESTAMPNS), so the sink scheduling is not in it; the baseline row is the generator straight into the sink.',
  );
  printTable(`Lecture fan-out (Lectern; subscribers: ${fanoutSubscribers} into a counting sink)`, FANOUT_HEADER, fanoutRows(output.fanout));
}

// 1b. Capacity of one worker core: one worker, N rising until subscribers lose packets.
if (only.has('capacity')) {
  const points: FanoutResult[] = [];
  for (const n of args['capacity-subscribers'].split(',').map(Number)) {
    console.log(`capacity: one worker, 1 -> ${n} ...`);
    // One worker, admission unbounded: this finds the limit the product's capacity defaults come from.
    const r = await measureFanout(() => LecternFanout.create({ workers: 1, capacity: UNBOUNDED_CAPACITY, pin: args.pin, srtpSuite, ioUring, estimator: plainEstimator }), n, fanoutKind, timing);
    points.push(r);
    if (!r.discarded && r.loss > 0) break;
  }
  const clean = points.filter((r) => !r.discarded && r.loss === 0);
  const best = clean.reduce<FanoutResult | undefined>((a, r) => (!a || r.forwardedPerSecond > a.forwardedPerSecond ? r : a), undefined);
  output.capacity = { points, maxCleanForwardedPerSecond: best?.forwardedPerSecond ?? 0, maxCleanSubscribers: best?.subscribers ?? 0 };
  printTable(`Capacity of one worker (one core; subscribers: ${fanoutSubscribers})`, FANOUT_HEADER, fanoutRows(points));
  console.log(
    best
      ? `highest load with 0 loss on one worker: 1 -> ${best.subscribers}, ${best.forwardedPerSecond} forwarded packets/s at ${fmt(best.sfuCpuPercent)}% of a core, ` +
          `p99 ${fmt(best.latencyP99Ms)} ms (target >= 60,000/s)`
      : 'no point ran without loss',
  );
  notes.push(
    'capacity: one worker process (so one core at most), the same publisher and subscribers as the fan-out, N rising until a ' +
      'point loses packets without kernel receive-buffer drops; the first lossy point ends the ramp.',
  );
}

// 1c. Ramp past capacity: subscribers added in steps past the product's capacity; those past it are
//     refused at_capacity and the admitted ones must keep 0 loss.
if (only.has('ramp')) {
  const consumersPerWorker = Number(args['ramp-capacity']);
  const steps = args['ramp-subscribers'].split(',').map(Number);
  console.log(`ramp: capacity ${consumersPerWorker} consumers per worker, subscribers ${steps.join(' -> ')} ...`);
  const ramp = await measureRamp({ pin: args.pin, srtpSuite, ioUring, capacity: { consumersPerWorker, roomSpreadConsumers } }, steps, fanoutKind, timing);
  output.ramp = ramp;
  const workerIndexes = ramp.steps[0]?.workers.map((w) => w.index) ?? [];
  printTable(
    `Ramp past capacity (${ramp.layout}; ${consumersPerWorker} consumers per worker, admits up to ${ramp.limitConsumers} consumers (capacity less the instructors' reserve); ${fanoutSubscribers})`,
    ['asked', 'admitted', 'refused', 'loss', 'streams', 'min/stream', ...workerIndexes.flatMap((i) => [`w${i} cpu %`, `w${i} consumers`]), 'run'],
    ramp.steps.map((st) => [
      String(st.asked),
      String(st.admitted),
      `${st.refused} (+${st.refusedThisStep})`,
      pct(st.loss),
      String(st.streamsSeen),
      String(st.minPerStream),
      ...st.workers.flatMap((w) => [fmt(w.cpuPercent), String(w.consumers)]),
      [st.discarded ? 'DISCARDED (rcvbuf drops at receivers)' : 'ok', ...(st.sfuSocketDrops ? [`SFU overloaded: ${st.sfuSocketDrops} drops at its sockets`] : [])].join(', '),
    ]),
  );
  notes.push(
    'ramp: the fan-out through the product with a small capacity (--ramp-capacity consumers per worker); subscribers added in steps (--ramp-subscribers, cumulative); ' +
      'the product refuses at_capacity those its admission rule (sfu/Capacity capacityRefusal, the same as a student join) does not take, and every step counts a window at the admitted ones.',
  );
}

// 2. Side by side with Janus and pion: the same load, WebRTC subscribers (werift) on every side,
//    A-B-B-A (each pair runs the peers in one order, the next pair in the reverse order).
if (only.has('compare')) {
  const n = Number(args['compare-subscribers']);
  const pairs = Number(args.pairs);
  const pin = args['compare-pin'] === 'on';
  if (pin && !pinToCpu(process.pid, 1)) throw new Error('--compare-pin=on needs taskset (util-linux) and two CPUs (--compare-pin=off: unpinned)');
  const compareTiming = { ...timing, windowSeconds: Number(args['compare-window']), ...(pin ? { sfuCpu: 0 } : {}) };
  const pionGomaxprocs = Number(args['pion-gomaxprocs']);
  if (!Number.isInteger(pionGomaxprocs) || pionGomaxprocs < 1) throw new Error('--pion-gomaxprocs=N (N >= 1: the pion SFU\'s GOMAXPROCS)');
  const makers: Record<ComparePeer, () => Promise<FanoutTarget>> = {
    lectern: () => LecternFanout.create({ estimator: estimatorArg('lectern-estimator'), ioUring }),
    'lectern-bwe': () => LecternFanout.create({ estimator: estimatorArg('lectern-bwe'), ioUring }),
    janus: () => JanusFanout.create(),
    'pion-nack': () => PionFanout.create({ mode: 'nack', gomaxprocs: pionGomaxprocs }),
    'pion-no-nack': () => PionFanout.create({ mode: 'no-nack', gomaxprocs: pionGomaxprocs }),
  };
  const wanted = args['compare-peers'].split(',') as ComparePeer[];
  for (const peer of wanted) if (!(peer in makers)) throw new Error(`--compare-peers: unknown peer '${peer}' (${Object.keys(makers).join(',')})`);
  let skip: string | undefined;
  await loadWerift().catch((error: Error) => {
    skip = error.message;
  });
  const peers = wanted.filter((peer) => {
    const why =
      peer === 'janus' && !janusInstalled()
        ? 'janus is not installed (apt-get install janus)'
        : peer.startsWith('pion') && pionUnavailable()
          ? pionUnavailable()
          : undefined;
    if (why && !skip) {
      console.log(`
comparison: ${peer} skipped: ${why}`);
      notes.push(`comparison: ${peer} skipped: ${why.replaceAll('\n', ' ').slice(0, 400)}`);
    }
    return !why;
  });
  if (!skip && (!peers.includes('lectern') || peers.length < 2)) skip = 'nothing to compare Lectern with';
  if (skip) {
    console.log(`
comparison skipped: ${skip}`);
    notes.push(`comparison skipped: ${skip}`);
  } else {
    const runPairs: Partial<Record<ComparePeer, FanoutResult>>[] = [];
    const inRunOrder: FanoutResult[] = [];
    for (let p = 0; p < pairs; p++) {
      const order = p % 2 === 0 ? peers : [...peers].reverse();
      const pair: Partial<Record<ComparePeer, FanoutResult>> = {};
      for (const peer of order) {
        console.log(`compare pair ${p + 1}/${pairs}: ${peer} 1 -> ${n} (WebRTC subscribers) ...`);
        try {
          pair[peer] = await measureFanout(makers[peer], n, 'webrtc', compareTiming);
          inRunOrder.push(pair[peer]!);
        } catch (error) {
          console.log(`compare pair ${p + 1}: ${peer} failed: ${(error as Error).message}`);
          notes.push(`comparison pair ${p + 1}: ${peer} failed: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      runPairs.push(pair);
    }
    // Lectern against each peer: the median over pairs where both ran and neither was discarded.
    const ratios: CompareRatios = {};
    for (const peer of peers.filter((x) => x !== 'lectern')) {
      const valid = runPairs.filter((pair) => pair.lectern && pair[peer] && !pair.lectern.discarded && !pair[peer]!.discarded);
      ratios[peer] = {
        validPairs: valid.length,
        medianCpuRatio: median(valid.map((pair) => pair.lectern!.cpuMicrosPerPacket / pair[peer]!.cpuMicrosPerPacket)),
        medianP99Ratio: median(valid.map((pair) => pair.lectern!.latencyP99Ms / pair[peer]!.latencyP99Ms)),
      };
    }
    output.comparison = {
      subscribers: n,
      peers,
      pairs: runPairs,
      ratios,
      // Lectern/Janus at the top level, as results before pion was added recorded it.
      validPairs: ratios.janus?.validPairs ?? 0,
      medianCpuRatio: ratios.janus?.medianCpuRatio ?? Number.NaN,
      medianP99Ratio: ratios.janus?.medianP99Ratio ?? Number.NaN,
    };
    notes.push(
      `comparison: 1 -> ${n}, subscribers are werift WebRTC peers (ICE + DTLS + SRTP, loopback only) on every side: ` +
        'Lectern WebRtcTransports on the pool WebRtcServer (1 worker) vs a Janus streaming mountpoint (1 event loop) ' +
        `vs a pion/webrtc ${machine.pion ?? ''} SFU (bench/pion/main.go, GOMAXPROCS=${pionGomaxprocs}) with its default interceptors (pion-nack) and with none (pion-no-nack). ` +
        'All offer VP8 and opus with mid and abs-send-time and no transport-wide-cc extension in the packets (Janus offers none; pion-nack lists it, but nothing stamps it)' +
        (args['lectern-estimator'] !== 'none' ? `, except that Lectern here runs a ${args['lectern-estimator']} bandwidth estimator per subscriber (--lectern-estimator)` : '') +
        (peers.includes('lectern-bwe') ? `; lectern-bwe is Lectern with a ${args['lectern-bwe']} bandwidth estimator per subscriber, as browsers get` : '') +
        '. Runs interleaved A-B-B-A; pairs with kernel receive-buffer drops at the receivers are discarded.',
    );
    printTable(`Side by side: ${peers.join(', ')}, 1 -> ${n}, werift WebRTC subscribers, A-B-B-A`, FANOUT_HEADER, fanoutRows(inRunOrder));
    for (const [peer, r] of Object.entries(ratios)) {
      console.log(
        `Lectern/${peer} over ${r.validPairs} valid pairs (median): CPU per forwarded packet ${fmt(r.medianCpuRatio, 2)}, ` +
          `p99 latency ${fmt(r.medianP99Ratio, 2)}` +
          (peer === 'lectern-bwe' ? `   (what the ${args['lectern-bwe']} estimator adds)` : '   (target: CPU ratio <= 0.6)'),
      );
    }
    console.log('  (latency here is dominated by the single werift receiver thread, not the SFUs: see bench/README.md)');
  }
  if (pin) pinToCpu(process.pid, `0-${os.cpus().length - 1}`);
}

// 3. Signalling: WebSocket sessions against a real Lectern server.
if (only.has('signalling')) {
  for (const sessions of args.sessions.split(',').map(Number)) {
    console.log(`signalling: ${sessions} sessions ...`);
    try {
      output.signalling.push(await measureSignalling(sessions));
    } catch (error) {
      console.log(`signalling with ${sessions} sessions failed: ${(error as Error).message}`);
      notes.push(`signalling ${sessions}: failed: ${(error as Error).message}`);
    }
  }
  printTable(
    'Signalling (real server in its own process; all sessions join at once, rooms of 500)',
    ['sessions', 'connects/s', 'joins/s', 'join p50 ms', 'join p99 ms', 'failed', 'frames to clients', 'server RSS KiB/session', 'server heap KiB/session'],
    output.signalling.map((s) => [
      String(s.sessions),
      String(s.connectsPerSecond),
      String(s.joinsPerSecond),
      fmt(s.joinP50Ms, 0),
      fmt(s.joinP99Ms, 0),
      String(s.failedJoins),
      String(s.framesToClients),
      fmt(s.serverRssPerSessionKiB, 2),
      fmt(s.serverHeapPerSessionKiB, 2),
    ]),
  );
}

// 4. Join latency: click Join -> first decoded remote frame, in Chromium, repeated. Before the
//    seminar, whose dozen browsers leave the machine loaded for a while.
if (only.has('joinlatency')) {
  const joins = Number(args.joins);
  console.log(`join latency: ${joins} joins into a room with one publisher ...`);
  try {
    const r = await measureJoinLatency({ joins, joinerSends: args['joiner-sends'] !== 'no', timeoutSeconds: 20 });
    output.joinLatency = r;
    notes.push(`join latency: ${r.note}`);
    const row = (label: string, s: { p50: number; p95: number; min: number; max: number }) => [label, fmt(s.p50, 0), fmt(s.p95, 0), fmt(s.min, 0), fmt(s.max, 0)];
    printTable(
      `Join latency in Chromium (${r.completed}/${r.joins} joins, one publisher already sending; target: click -> first frame p50 <= 500 ms)`,
      ['from -> to', 'p50 ms', 'p95 ms', 'min ms', 'max ms'],
      [
        row("click -> 'join' request sent", r.summary.clickToJoinSentMs),
        row("click -> 'join' reply", r.summary.clickToJoinedMs),
        row('click -> first PeerConnection connected', r.summary.clickToFirstPcConnectedMs),
        row('click -> remote video track on its tile', r.summary.clickToRemoteTrackMs),
        row('click -> first remote frame (rVFC)', r.summary.clickToFirstFrameMs),
        row('click -> first remote frame (10 ms poll)', r.summary.clickToFirstFramePollMs),
        row("'join' reply -> first remote frame", r.summary.joinedToFirstFrameMs),
      ],
    );
    for (const s of r.samples.filter((x) => x.error)) console.log(`  join ${s.join}: ${s.error}`);
    const typical = r.samples.filter((x) => !x.error).sort((a, b) => a.clickToFirstFrameMs - b.clickToFirstFrameMs)[Math.floor(r.completed / 2)];
    if (typical?.timeline) console.log(`  the median join, step by step (ms after the click):\n    ${typical.timeline.join('\n    ')}`);
  } catch (error) {
    console.log(`join latency failed: ${(error as Error).message}`);
    notes.push(`join latency: failed: ${(error as Error).message}`);
  }
}

// 3b. Abuse: fuzzed frames and a junk flood, timed from an honest participant (target: canary p99 < 20 ms).
if (only.has('fuzz')) {
  const frames = Number(args['fuzz-frames']);
  console.log(`fuzz: ${frames} fuzzed frames from 20 connections plus a junk flooder ...`);
  try {
    const r = await measureFuzz(frames, 20);
    output.fuzz = r;
    notes.push(`fuzz: ${r.note}`);
    printTable(
      'Signalling under abuse: an honest participant\'s request round trip (target p99 < 20 ms)',
      ['phase', 'requests', 'p50 ms', 'p99 ms', 'server CPU %'],
      [
        ['canary alone', String(r.canaryBaseline.requests), fmt(r.canaryBaseline.p50Ms, 2), fmt(r.canaryBaseline.p99Ms, 2), '-'],
        ['during fuzz + junk flood', String(r.canaryUnderLoad.requests), fmt(r.canaryUnderLoad.p50Ms, 2), fmt(r.canaryUnderLoad.p99Ms, 2), fmt(r.serverCpuPercent)],
      ],
    );
    console.log(`  ${r.note}`);
  } catch (error) {
    console.log(`fuzz failed: ${(error as Error).message}`);
    notes.push(`fuzz: failed: ${(error as Error).message}`);
  }
}

// 3c. The durable audit log: what an acknowledgement waits for, and start-up as the history grows.
if (only.has('recording')) {
  const counts = args['recording-tracks'].split(',').map(Number);
  console.log(`recording: one ~1 Mbit/s VP8 track recorded ${counts.join(', ')} times at once (ffmpeg -c copy, encrypted to disk) ...`);
  try {
    const rows = [];
    for (const tracks of counts) rows.push(await measureRecording({ tracks, windowSeconds: 20, warmupSeconds: 5 }));
    output.recording = rows;
    printTable(
      'Recording: CPU per recorded track (percent of one core; target < 2 %, no transcoding)',
      ['tracks', 'producer Mbit/s', 'muxer %/track', 'node %/track', 'worker %/track', 'total %/track', 'lost', 'errors'],
      rows.map((r) => [String(r.tracks), fmt(r.producerBitrate / 1e6, 2), fmt(r.muxerCpuPerTrack, 2), fmt(r.nodeCpuPerTrack, 2), fmt(r.workerCpuPerTrack, 2), fmt(r.totalCpuPerTrack, 2), String(r.lost), String(r.errors.length)]),
    );
  } catch (error) {
    console.log(`recording failed: ${(error as Error).message}`);
    notes.push(`recording: failed: ${(error as Error).message}`);
  }
  if (args['recording-class']) {
    const [participants = 60, cameras = 12, tracks = 8] = args['recording-class'].split(',').map(Number);
    console.log(`recording alongside a class: 1 instructor + ${participants} bots (${cameras} cameras), unrecorded, then ${tracks} tracks recorded ...`);
    try {
      const r = await measureRecordingWithClass(classOptions(participants, cameras, Number(args['class-window'])), tracks);
      output.recordingWithClass = r;
      printTable(
        'Recording alongside a class: the class unrecorded, then recorded (CPU in percent of one core)',
        ['participants', 'tracks', 'muxer %/track', 'server +%/track', 'sfu +%/track', 'total %/track', 'sfu % without', 'sfu % with', 'class loss without', 'class loss with', 'recording loss', 'recorder errors', 'flagged without/with'],
        [[String(r.participants), String(r.tracks), fmt(r.perTrack.muxer, 2), fmt(r.perTrack.server, 2), fmt(r.perTrack.sfu, 2), fmt(r.perTrack.total, 2), fmt(r.without.sfuCpuPercent), fmt(r.with.sfuCpuPercent), pct(r.without.loss), pct(r.with.loss), pct(r.recording?.loss ?? 0), String(r.recording?.errors.length ?? 0), `${r.without.flagged}/${r.with.flagged}`]],
      );
    } catch (error) {
      console.log(`recording alongside a class failed: ${(error as Error).message}`);
      notes.push(`recording alongside a class: failed: ${(error as Error).message}`);
    }
  }
}

if (only.has('auditlog')) {
  const sizes = args['audit-entries'].split(',').map(Number);
  console.log(`audit log: durable appends, join round trips, start-up at ${sizes.join(', ')} entries ...`);
  try {
    const r = await measureAuditLog(sizes);
    output.auditLog = r;
    notes.push(`audit log: ${r.note}`);
    printTable(
      'Durable audit: an action is acknowledged after its entry is on disk',
      ['measure', 'p50 ms', 'p99 ms'],
      [
        ['one append (fdatasync)', fmt(r.sequentialAppend.p50Ms, 2), fmt(r.sequentialAppend.p99Ms, 2)],
        [`join round trip (${r.joinRoundTrip.joins}, one at a time)`, fmt(r.joinRoundTrip.p50Ms, 2), fmt(r.joinRoundTrip.p99Ms, 2)],
        ['50 appends at once, total', fmt(r.burstOf50.totalMs, 2), '-'],
      ],
    );
    printTable(
      'Start-up: opening the audit log',
      ['entries', 'file MiB', 'from checkpoint ms', 'full verification ms'],
      r.startup.map((s) => [String(s.entries), fmt(s.fileMiB), fmt(s.fromCheckpointMs), s.fullVerificationMs === null ? '-' : fmt(s.fullVerificationMs)]),
    );
  } catch (error) {
    console.log(`audit log failed: ${(error as Error).message}`);
    notes.push(`audit log: failed: ${(error as Error).message}`);
  }
}

// 4b. Coming back after faults: signalling cut, UDP black-holed, the room's worker SIGKILLed.
if (only.has('reconnect')) {
  const repeats = Number(args['reconnect-rounds']);
  console.log(`reconnect: ${repeats} rounds of three faults ...`);
  try {
    const r = await measureReconnect({ repeats, outageMs: 5000 });
    output.reconnect = r;
    notes.push(`reconnect: ${r.note}`);
    const row = (label: string, s: { p50: number; max: number }, n: number) => [label, String(n), fmt(s.p50, 0), fmt(s.max, 0)];
    printTable(
      `Coming back after a fault in Chromium (${repeats} rounds; target: worker crash -> media back < 3000 ms)`,
      ['fault', 'n', 'p50 ms', 'max ms'],
      [
        row('signalling cut 5 s: outage end -> resumed', r.summary.signallingResumeMs, r.samples.signallingResumeMs.length),
        row('UDP black-holed 5 s: outage end -> media back', r.summary.udpBlackHoleRecoveryMs, r.samples.udpBlackHoleRecoveryMs.length),
        row('worker SIGKILL -> both see new video', r.summary.workerCrashMediaBackMs, r.samples.workerCrashMediaBackMs.length),
      ],
    );
    for (const e of r.errors) console.log(`  ${e}`);
  } catch (error) {
    console.log(`reconnect failed: ${(error as Error).message}`);
    notes.push(`reconnect: failed: ${(error as Error).message}`);
  }
}

// 5. Seminar: N Chromium pages in one room, all sending and receiving.
if (only.has('seminar')) {
  const cam = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(args['seminar-camera']);
  if (!cam) throw new Error('--seminar-camera=WIDTHxHEIGHT[@FPS]');
  const camera = { width: Number(cam[1]), height: Number(cam[2]), fps: Number(cam[3] ?? 15) };
  for (const participants of args['seminar-participants'].split(',').map(Number)) {
    const browsers = Math.min(participants, Number(args['seminar-browsers']));
    console.log(`seminar: ${participants} participants (${browsers} Chromium pages, ${participants - browsers} bots), camera ${args['seminar-camera']} ...`);
    try {
      const r = await measureSeminar({ participants, browsers, camera, windowSeconds: Number(args['seminar-window']), warmupSeconds: 5, readyTimeoutSeconds: 90 });
      output.seminar.push(r);
      notes.push(`seminar ${participants}: ${r.note}`);
    } catch (error) {
      console.log(`seminar with ${participants} participants failed: ${(error as Error).message}`);
      notes.push(`seminar ${participants}: failed: ${(error as Error).message}`);
    }
  }
  printTable(
    'Seminar (N participants = Chromium pages + bots, each sends camera+mic and receives all others; SFU = default 2 workers, one room = one worker)',
    ['N', 'pages+bots', 'joined', 'camera', 'layers sent', 'sent heights', 'tiles w/ video', 'fps p50', 'fps p10', 'height p50', 'video loss', 'audio loss', 'bot video streams', 'bot video loss', 'bot audio loss', 'rcvbuf drops (sfu)', 'fwd pkt/s', 'sfu in pkt/s', 'sfu cpu % (per worker)', 'chromium cpu %', 'bench+bots cpu %', 'machine cpu %', 'load'],
    output.seminar.map((r) => [
      String(r.participants),
      `${r.browsers}+${r.bots}`,
      String(r.joined),
      r.camera,
      fmt(r.layersSentMedian, 0),
      r.sentHeights,
      `${r.tilesWithVideo}/${r.remoteTiles}`,
      fmt(r.fpsMedian),
      fmt(r.fpsP10),
      fmt(r.frameHeightMedian, 0),
      pct(r.videoLoss),
      pct(r.audioLoss),
      r.botVideoStreams,
      pct(r.botVideoLoss),
      pct(r.botAudioLoss),
      `${r.rcvbufErrors} (${r.sfuSocketDrops})`,
      String(r.sfuForwardedPerSecond),
      String(r.sfuReceivedPerSecond),
      r.sfuCpuPercentPerWorker.map((c) => fmt(c)).join(' + '),
      fmt(r.chromiumCpuPercent, 0),
      fmt(r.benchProcessCpuPercent, 0),
      `${fmt(r.machineBusyPercent, 0)}/${machine.cpus * 100}`,
      fmt(r.loadAverage),
    ]),
  );
}

// 6. Class: an instructor and N participants, all bots over the real signalling and WebRTC.
if (only.has('class')) {
  const clip = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(args['class-clip']);
  if (!clip) throw new Error('--class-clip=WIDTHxHEIGHT[@FPS]');
  const participants = Number(args['class-participants']);
  const cameras = Number(args['class-cameras']);
  console.log(`class: 1 instructor + ${participants} participants (${cameras} cameras, ${args['class-microphones']} microphones), pages of ${args['class-page']} ...`);
  try {
    const r = await measureClass({
      participants,
      cameras,
      microphones: Number(args['class-microphones']),
      pageSize: Number(args['class-page']),
      maxVideoConsumers: Number(args['class-max-video']),
      clip: { width: Number(clip[1]), height: Number(clip[2]), fps: Number(clip[3] ?? 15), kbps: 60 },
      botThreads: Number(args['class-bot-threads']),
      windowSeconds: Number(args['class-window']),
      warmupSeconds: 5,
      readyTimeoutSeconds: 120,
    });
    output.class = r;
    notes.push(`class: ${r.note}`);
    const spread = (s: { max: number; mean: number }) => `${s.max}/${fmt(s.mean)}`;
    printTable(
      `Class (an instructor + participants, all bots; each views a page of ${r.pageSize}; SFU = default config, ${r.sfuCpuPercentPerWorker.length} workers, at most ${r.maxVideoConsumers} video consumers per participant; target: video consumers <= ${r.maxVideoConsumers}, 0% loss)`,
      ['participants', 'joined', 'cameras', 'mics', 'page sent', 'video cons max/mean', 'active video max/mean', 'audio cons max/mean', 'sfu cpu % (per worker)', 'sfu cpu %/participant', 'fwd pkt/s', 'sfu in pkt/s', 'pkts/bot min/p50/max', 'loss', 'sent, not counted', 'rcvbuf drops (sfu)', 'flagged', 'load'],
      [
        [
          String(r.participants),
          String(r.joined),
          String(r.cameras),
          String(r.microphones),
          r.viewSent ? 'yes' : 'REFUSED',
          spread(r.videoConsumers),
          spread(r.activeVideoConsumers),
          spread(r.audioConsumers),
          r.sfuCpuPercentPerWorker.map((c) => fmt(c)).join(' + '),
          fmt(r.sfuCpuPercentPerParticipant, 2),
          String(r.sfuForwardedPerSecond),
          String(r.sfuReceivedPerSecond),
          `${r.receivedPerBot.min}/${r.receivedPerBot.p50}/${r.receivedPerBot.max}`,
          pct(r.loss),
          String(r.sentNotReceived),
          `${r.rcvbufErrors} (${r.sfuSocketDrops})`,
          String(r.flagged.length),
          fmt(r.loadAverage),
        ],
      ],
    );
    console.log(
      `  video consumers per participant <= ${r.maxVideoConsumers} (the server's cap): ${r.videoCapHeld ? 'yes' : 'NO'}; ` +
        `video flowing only for tiles on the page: ${r.onlyPageSent ? 'yes' : 'NO'}; ${r.note}`,
    );
    // A subscriber at zero (or far below the rest) is a failure to explain, never noise.
    for (const f of r.flagged) {
      console.log(`  FLAGGED ${f.name}: ${f.flag}`);
      for (const c of f.consumers) {
        console.log(
          `    ${c.kind} consumer ${c.consumerId} (producer ${c.producerId}): server ${c.paused === undefined ? 'has no such consumer' : `${c.paused ? 'paused' : 'running'}${c.producerPaused ? ', producer paused' : ''}`}, sent ${c.sent}, bot counted ${c.received} (${c.lost} gaps)`,
        );
      }
    }
  } catch (error) {
    console.log(`class failed: ${(error as Error).message}`);
    notes.push(`class: failed: ${(error as Error).message}`);
  }
}

// A cluster: three node processes and Redis; joins with and without a redirect, placement, failover, drain.
if (only.has('cluster')) {
  const rooms = Number(args['cluster-rooms']);
  console.log(`cluster: 3 nodes + redis-server, ${rooms} rooms through different entry nodes ...`);
  try {
    const r = await measureCluster({ rooms, joinsPerRoom: Number(args['cluster-joins']), ttlSeconds: Number(args['cluster-ttl']), heartbeatSeconds: Number(args['cluster-heartbeat']), drainSeconds: Number(args['cluster-drain']) });
    output.cluster = r;
    notes.push(`cluster: ${r.note}`);
    const row = (label: string, s: { n: number; p50: number; p99: number; max: number }) => [label, String(s.n), fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.max, 1)];
    printTable(
      `Cluster: signalling joins (connect + join), ${r.rooms} rooms over ${r.nodes} nodes, ${r.failedJoins} failed`,
      ['join', 'n', 'p50 ms', 'p99 ms', 'max ms'],
      [row(`first join (opens the room; ${r.createRedirected} sent on by placement)`, r.create), row('on the home node', r.joinDirect), row('through another node (redirect)', r.joinRedirected)],
    );
    printTable('Cluster: rooms per node after placement', ['node', 'rooms'], Object.entries(r.roomsPerNode).map(([node, n]) => [node, String(n)]));
    printTable(
      'Cluster: failure and drain',
      ['event', 'ms', 'detail'],
      [
        ['home node SIGKILL -> next join ok on a live node', r.failover ? fmt(r.failover.killToJoinMs, 0) : '-', r.failover ? `TTL ${r.failover.ttlSeconds} s, ${r.failover.attempts} attempts, new home ${r.failover.newHome}` : 'did not happen'],
        ['SIGTERM -> participant told to move', r.drain ? fmt(r.drain.termToNotifiedMs, 0) : '-', r.drain ? `drain ${r.drain.drainSeconds} s` : 'did not happen'],
        ['SIGTERM -> participant back in on a live node', r.drain ? fmt(r.drain.termToRejoinedMs, 0) : '-', ''],
        ['SIGTERM -> node exited', r.drain ? fmt(r.drain.termToExitMs, 0) : '-', r.drain ? `exit code ${r.drain.exitCode}` : ''],
      ],
    );
  } catch (error) {
    console.log(`cluster failed: ${(error as Error).message}`);
    notes.push(`cluster: failed: ${(error as Error).message}`);
  }
}

// A lecture across two node processes: the home's share, the rest on an edge over the product's SRTP pipe.
if (only.has('cluster-fanout')) {
  const n = Number(args['cluster-fanout-subscribers']);
  const homeCapacity = args['cluster-fanout-home-capacity'];
  console.log(`cluster fan-out: 1 -> ${n} over a home and an edge node + redis-server ...`);
  try {
    const r = await measureClusterFanout({
      subscribers: n,
      windowSeconds: timing.windowSeconds,
      warmupMs: timing.warmupMs,
      ...(homeCapacity ? { homeConsumersPerWorker: Number(homeCapacity) } : {}),
      srtpSuite,
      paced: timing.paced,
      ioUring,
    });
    output.clusterFanout = r;
    notes.push(`cluster fan-out: ${r.note}`);
    const sideRow = (role: string, s: ClusterFanoutResult['home']) => [
      s.node,
      role,
      String(s.subscribers),
      `${s.streamsSeen}/${s.expectedStreams}`,
      `${s.subscribersComplete}/${s.subscribers}`,
      `${s.fewestPerSubscriber}/${s.windowPackets}${s.fewestSubscriber ? ` (${s.fewestSubscriber})` : ''}`,
      String(s.forwardedPerSecond),
      pct(s.loss),
      fmt(s.latencyP50Ms, 2),
      fmt(s.latencyP99Ms, 2),
      String(s.srtpFailures),
    ];
    printTable(
      `Cluster fan-out: 1 -> ${r.subscribers} across two nodes (${r.publisher} publisher, ${r.windowSeconds} s window${r.refused ? `, ${r.refused} refused at_capacity by every node` : ''})`,
      ['node', 'receives', 'subs', 'streams seen', 'subs with all', 'fewest on one sub', 'fwd pkt/s', 'loss', 'p50 ms', 'p99 ms', 'srtp fail'],
      [sideRow('on the home', r.home), sideRow('over the pipe', r.edge)],
    );
    const pipe = r.pipes.map((p) => `${p.edgeNodeId}: SRTP ${p.homeSrtp ? 'on' : 'OFF'}/${p.edgeSrtp ? 'on' : 'OFF'}, RTX ${p.homeRtx ? 'on' : 'OFF'}/${p.edgeRtx ? 'on' : 'OFF'} (home/edge), ${p.producers} tracks`).join('; ');
    const failover = output.cluster?.failover;
    printTable('Cluster fan-out: the hop, CPU, pipe, failover', ['what', 'value'], [
      ['added latency of the hop, p50 (edge - home)', `${fmt(r.hopP50Ms, 2)} ms`],
      ['added latency of the hop, p99 (edge - home)', `${fmt(r.hopP99Ms, 2)} ms`],
      ...r.cpu.map((c) => [`CPU ${c.node}: node process / its worker`, `${fmt(c.processPercent)} % / ${fmt(c.workerPercent)} % of a core`]),
      ['forwarded in all', `${r.home.forwardedPerSecond + r.edge.forwardedPerSecond} pkt/s`],
      ['loss in all', pct(1 - (r.home.receivedPackets + r.edge.receivedPackets) / Math.max(1, r.home.expectedPackets + r.edge.expectedPackets))],
      ['home share ended at', r.homeFull ?? 'never (every subscriber on the home)'],
      ['pipe', pipe || 'none opened'],
      ['setup (subscribers added, keys handed to the sinks)', `${r.setupMs} ms`],
      ['home node SIGKILL -> next join on a live node', failover ? `${fmt(failover.killToJoinMs, 0)} ms (the cluster scenario of this run, TTL ${failover.ttlSeconds} s)` : 'not measured in this run (--only=cluster,cluster-fanout)'],
      ['run', [r.discarded ? `DISCARDED (${r.rcvbufErrors} rcvbuf drops at receivers)` : 'ok', ...(r.sfuSocketDrops ? [`SFU overloaded: ${r.sfuSocketDrops} drops at its sockets`] : []), `load ${fmt(r.loadAverage, 1)}`].join(', ')],
    ]);
    for (const s of [r.home, r.edge]) {
      if (s.silentCount === 0) continue;
      const line = `cluster fan-out: ${s.silentCount} subscriber(s) on ${s.node} had a subscription that received nothing in the window (a failure to explain): ${s.silent.join(', ')}${s.silentCount > s.silent.length ? ', ...' : ''}`;
      console.log(line);
      notes.push(line);
    }
  } catch (error) {
    console.log(`cluster fan-out failed: ${(error as Error).message}`);
    notes.push(`cluster fan-out: failed: ${(error as Error).message}`);
  }
}

// Failover as a person meets it: the class's home node SIGKILLed under two students in Chromium.
if (only.has('failover')) {
  const repetitions = Number(args['failover-repetitions']);
  console.log(`failover: 3 nodes + redis-server, 2 students in Chromium, home node SIGKILLed ${repetitions} times ...`);
  try {
    const r = await measureFailover({ repetitions, ttlSeconds: Number(args['cluster-ttl']), heartbeatSeconds: Number(args['cluster-heartbeat']) });
    output.failover = r;
    notes.push(`failover: ${r.note}`);
    const row = (label: string, s: { p50: number; max: number }) => [label, fmt(s.p50, 0), fmt(s.max, 0)];
    printTable(
      `Failover in Chromium: home node SIGKILL -> both students decode each other on a live node (${r.completed}/${r.repetitions} repetitions; pages go back after ${r.boundMs} ms; target < 5000 ms)`,
      ['ms after the SIGKILL', 'p50 ms', 'max ms'],
      [
        row('both decode each other again (the later first frame)', r.bothDecoding),
        row("a page went back (history.back() to the entry node's page)", r.steps.wentBack),
        row('that page loaded', r.steps.loaded),
        row("its 'join' answered", r.steps.joinAnswered),
        row('its first transport connected', r.steps.transportConnected),
        row("first frame of the other student's camera", r.steps.firstFrame),
        row('tenth frame', r.steps.tenthFrame),
      ],
    );
    for (const s of r.samples.filter((x) => x.error)) console.log(`  repetition ${s.repetition}: ${s.error}`);
  } catch (error) {
    console.log(`failover failed: ${(error as Error).message}`);
    notes.push(`failover: failed: ${(error as Error).message}`);
  }
}

finish(0);

/** Write what was measured and exit. */
function finish(code: number): never {
  const resultsDir = join(benchDir, 'results');
  if (!existsSync(resultsDir)) mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${output.startedAt.replaceAll(':', '-').replace(/\..*/, '')}.json`);
  writeFileSync(file, `${JSON.stringify(output, null, 2)}\n`);
  console.log(`${notes.length > 0 ? `\nnotes:\n- ${notes.join('\n- ')}` : ''}\nresults written to ${file}`);
  process.exit(code);
}
