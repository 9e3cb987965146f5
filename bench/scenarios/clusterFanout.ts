// A lecture across two hosts: 1 -> N where the home node's share is what its admission takes and the
// rest receive on an edge node over the product's inter-node pipe. What it covers, and what not:
// - Two node processes (bench/cluster/fanoutNode.ts), each the product's Sfu with one mediasoup
//   worker on its own address (home 127.0.0.11, edge 127.0.0.12), and the product's cluster parts
//   as server/app.ts builds them from a parsed config: Redis coordination (a real redis-server),
//   ClusterNode registration and heartbeats, EdgeNode with its signed internal listener.
// - The generator's VP8 + opus into the home's room through the product's PlainPublisher; home
//   subscribers through RoomMedia.addPlainSubscriber (SRTP PlainTransports) until the product's
//   admission refuses one `at_capacity`; from there, as the join handler does, EdgeNode.place()
//   picks the edge from the registry and reserves a place over the control channel.
// - The pipe is the product's: one EdgePeerMedia (a participant placed on the edge, whose receive
//   transport is never connected, so it receives nothing) makes the room open its RemotePipe (SRTP +
//   RTX PipeTransports on the nodes' private addresses, set up through RpcEdgeLink -> InternalServer
//   -> EdgeService -> EdgeRoom) and produce the tracks on the edge, as for a browser student there.
// - Not the product's path: the edge subscribers' control. Edge subscribers are browsers in the
//   product (WebRtcTransports set up over the control channel) and 500 browsers cannot run here,
//   nor is there a control method for a plain one; so each is the product's PlainSubscriber put on
//   the EdgeRoom's own router in the edge process (bench/cluster/edgeSide.ts), consuming the piped
//   tracks. The media path on the edge (pipe producer -> router -> SRTP consumer) is the product's.
// - No signalling server runs (plain subscribers have none): joins, redirects and failover are the
//   `cluster` scenario's, whose failover time the table repeats when both run.
// Measured as the single-node fan-out is (measureFanout.ts): a window defined by the generator's
// packet counter, two C sinks (one for each node's subscribers) decrypting every packet with
// libsrtp2 and reading kernel receive timestamps, so p50/p99 on the edge minus those on the home is
// what the hop adds (a second worker's forwarding, the pipe's SRTP both ways, one more loopback hop).
import os from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SrtpSuite } from '../../sfu/index.js';
import { startRedis, type TestRedis } from '../../tests/helpers/redisServer.js';
import { ClusterFanoutNode } from '../cluster/ClusterFanoutNode.js';
import type { PipeReport, SinkStream } from '../cluster/nodeProtocol.js';
import { LatencyHistogram } from '../lib/LatencyHistogram.js';
import { RtpGenerator } from '../lib/RtpGenerator.js';
import { Sink } from '../lib/Sink.js';
import { cpuMicros, udpDropsOfProcesses, udpRcvbufErrors } from '../lib/proc.js';

/** Subscribers per sink socket. */
const SUBSCRIBERS_PER_SOCKET = 25;

/** Options of a cluster fan-out run. */
export interface ClusterFanoutOptions {
  subscribers: number;
  windowSeconds: number;
  warmupMs: number;
  /** media.capacity.consumersPerWorker of the home node (default the product's): sets where its share ends. */
  homeConsumersPerWorker?: number;
  srtpSuite: SrtpSuite;
  paced: boolean;
  ioUring: boolean;
}

/** What the subscribers of one node received in the window. */
export interface SideResult {
  node: string;
  subscribers: number;
  expectedStreams: number;
  /** Streams (one per subscription) with at least one packet in the window. */
  streamsSeen: number;
  /** Fewest packets on one stream that was seen; streams never seen are expectedStreams - streamsSeen. */
  minPerStream: number;
  /** Subscribers that received every packet of the window (audio and video). */
  subscribersComplete: number;
  /** The fewest window packets one subscriber received (of `windowPackets` each), and who. */
  fewestPerSubscriber: number;
  fewestSubscriber: string | undefined;
  /** Subscribers with a subscription that received nothing in the window (first 20): each a failure to explain. */
  silent: string[];
  silentCount: number;
  /** Packets of the window every subscriber should have received. */
  windowPackets: number;
  expectedPackets: number;
  receivedPackets: number;
  loss: number;
  forwardedPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  srtpFailures: number;
}

/** CPU of one node across the window, % of one core. */
export interface NodeCpu {
  node: string;
  processPercent: number;
  workerPercent: number;
}

/** What one cluster fan-out run measured. */
export interface ClusterFanoutResult {
  subscribers: number;
  /** Refused by the home and by every edge (not expected to receive). */
  refused: number;
  /** Why the home's share ended (its admission's refusal of the first subscriber sent to the edge). */
  homeFull: string | undefined;
  home: SideResult;
  edge: SideResult;
  /** Edge p50/p99 minus home p50/p99: what the hop adds. */
  hopP50Ms: number;
  hopP99Ms: number;
  cpu: NodeCpu[];
  pipes: PipeReport[];
  setupMs: number;
  windowSeconds: number;
  publisher: 'burst' | 'paced';
  rcvbufErrors: number;
  sfuSocketDrops: number;
  discarded: boolean;
  sink: string;
  loadAverage: number;
  note: string;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function keys(sink: Sink, streams: SinkStream[], suite: SrtpSuite): Promise<void> {
  for (const s of streams) await sink.addSrtpStream(s.port, s.ssrc, suite, s.keyBase64);
}

/** Per subscriber: window packets over its streams, and whether one of them got nothing. */
function perSubscriber(streams: SinkStream[], counts: Map<number, number>): Map<string, { received: number; silent: boolean }> {
  const by = new Map<string, { received: number; silent: boolean }>();
  for (const s of streams) {
    const n = counts.get(s.ssrc) ?? 0;
    const entry = by.get(s.subscriber) ?? { received: 0, silent: false };
    entry.received += n;
    entry.silent ||= n === 0;
    by.set(s.subscriber, entry);
  }
  return by;
}

function side(node: string, subscribers: number, report: Awaited<ReturnType<Sink['report']>>, streams: SinkStream[], counts: Map<number, number>, windowPackets: number, seconds: number): SideResult {
  const expected = windowPackets * subscribers;
  const histogram = new LatencyHistogram(report.histogram);
  const each = [...perSubscriber(streams, counts)];
  const fewest = each.reduce<[string, { received: number }] | undefined>((a, b) => (a === undefined || b[1].received < a[1].received ? b : a), undefined);
  const silent = each.filter(([, r]) => r.silent).map(([id]) => id);
  return {
    node,
    subscribers,
    expectedStreams: subscribers * 2,
    streamsSeen: report.streams,
    minPerStream: report.minPerStream,
    subscribersComplete: each.filter(([, r]) => r.received >= windowPackets).length,
    fewestPerSubscriber: fewest?.[1].received ?? 0,
    fewestSubscriber: fewest?.[0],
    silent: silent.slice(0, 20),
    silentCount: silent.length,
    windowPackets,
    expectedPackets: expected,
    receivedPackets: report.received,
    loss: expected > 0 ? Math.max(0, 1 - report.received / expected) : 0,
    forwardedPerSecond: Math.round(report.received / seconds),
    latencyP50Ms: report.received > 0 ? histogram.quantileMs(0.5) : Number.NaN,
    latencyP99Ms: report.received > 0 ? histogram.quantileMs(0.99) : Number.NaN,
    srtpFailures: report.srtpFailures,
  };
}

/** Run the scenario. */
export async function measureClusterFanout(options: ClusterFanoutOptions): Promise<ClusterFanoutResult> {
  if (!Sink.srtpCapable) throw new Error('the cluster fan-out needs the C sink built with libsrtp2 (SRTP subscribers)');
  const dir = mkdtempSync(join(tmpdir(), 'lectern-cluster-fanout-'));
  const secretFile = join(dir, 'cluster-secret');
  writeFileSync(secretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const timing = { ioUring: options.ioUring, redisPort: 0, secretFile };
  let redis: TestRedis | undefined;
  const nodes: ClusterFanoutNode[] = [];
  const sinks: Sink[] = [];
  let generator: RtpGenerator | undefined;
  try {
    redis = await startRedis();
    timing.redisPort = redis.port;
    const [home, edge] = await Promise.all([
      ClusterFanoutNode.start({ ...timing, nodeId: 'node-home', role: 'home', address: '127.0.0.11', auditDir: join(dir, 'audit-home'), ...(options.homeConsumersPerWorker !== undefined ? { consumersPerWorker: options.homeConsumersPerWorker } : {}) }),
      ClusterFanoutNode.start({ ...timing, nodeId: 'node-edge', role: 'edge', address: '127.0.0.12', auditDir: join(dir, 'audit-edge'), edgeSubscribers: options.subscribers + 1 }),
    ]);
    nodes.push(home, edge);
    const [homeSink, edgeSink] = await Promise.all([Sink.create(), Sink.create()]);
    sinks.push(homeSink, edgeSink);

    generator = await RtpGenerator.create({ video: home.publisher!, audio: home.publisher!, paced: options.paced });
    generator.start();
    await sleep(300);
    const setupStart = Date.now();
    const homePorts = (await homeSink.openPlain(Math.ceil(options.subscribers / SUBSCRIBERS_PER_SOCKET))).ports;
    const atHome = await home.add({ op: 'addSubscribers', count: options.subscribers, prefix: 's', ports: homePorts, suite: options.srtpSuite });
    const foreign = atHome.toEdge.filter((e) => e.nodeId !== edge.nodeId);
    if (foreign.length > 0) throw new Error(`placed on unknown edges: ${foreign.map((e) => e.nodeId).join(', ')}`);
    const toEdge = atHome.toEdge.find((e) => e.nodeId === edge.nodeId)?.count ?? 0;
    let atEdge = { streams: [] as SinkStream[], here: 0 };
    if (toEdge > 0) {
      const edgePorts = (await edgeSink.openPlain(Math.ceil(toEdge / SUBSCRIBERS_PER_SOCKET))).ports;
      atEdge = await edge.add({ op: 'addEdgeSubscribers', count: toEdge, prefix: 'e', ports: edgePorts, suite: options.srtpSuite });
    }
    // Subscriptions start paused; they flow once the sink holds their keys, so none is undecryptable.
    await keys(homeSink, atHome.streams, options.srtpSuite);
    await keys(edgeSink, atEdge.streams, options.srtpSuite);
    await Promise.all([home.resume(), edge.resume()]);
    const setupMs = Date.now() - setupStart;
    const { pipes } = await home.state();
    await sleep(options.warmupMs);

    const pps = generator.packetsPerSecond;
    const start = generator.counter + Math.ceil(pps * 0.2);
    const end = start + Math.round(pps * options.windowSeconds);
    await Promise.all(sinks.map((s) => s.setWindow(start, end)));
    const gen = generator;
    await until(() => gen.counter >= start, 5000, 'the window to start');
    const pids = nodes.flatMap((n) => [n.pid, ...n.workerPids]);
    const cpu0 = new Map(pids.map((pid) => [pid, cpuMicros(pid)]));
    const drops0 = udpRcvbufErrors();
    const sfuDrops0 = udpDropsOfProcesses(pids);
    const t0 = process.hrtime.bigint();
    await until(() => gen.counter >= end, options.windowSeconds * 1000 + 5000, 'the window to end');
    const cpu1 = new Map(pids.map((pid) => [pid, cpuMicros(pid)]));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const windowPackets = end - start;
    const [homeReport, edgeReport] = await Promise.all([homeSink.settledReport(windowPackets * atHome.here), edgeSink.settledReport(windowPackets * atEdge.here)]);
    const [homeCounts, edgeCounts] = await Promise.all([homeSink.streamCounts(), edgeSink.streamCounts()]);
    const sfuDrops = udpDropsOfProcesses(pids) - sfuDrops0;
    const otherDrops = Math.max(0, udpRcvbufErrors() - drops0 - sfuDrops);
    const percent = (pid: number) => ((cpu1.get(pid)! - cpu0.get(pid)!) / 1e6 / seconds) * 100;
    const homeSide = side(home.nodeId, atHome.here, homeReport, atHome.streams, homeCounts, windowPackets, seconds);
    const edgeSide = side(edge.nodeId, atEdge.here, edgeReport, atEdge.streams, edgeCounts, windowPackets, seconds);
    return {
      subscribers: options.subscribers,
      refused: atHome.refused,
      homeFull: atHome.homeFull,
      home: homeSide,
      edge: edgeSide,
      hopP50Ms: edgeSide.latencyP50Ms - homeSide.latencyP50Ms,
      hopP99Ms: edgeSide.latencyP99Ms - homeSide.latencyP99Ms,
      cpu: nodes.map((n) => ({ node: n.nodeId, processPercent: percent(n.pid), workerPercent: n.workerPids.reduce((a, pid) => a + percent(pid), 0) })),
      pipes,
      setupMs,
      windowSeconds: Number(seconds.toFixed(3)),
      publisher: options.paced ? 'paced' : 'burst',
      rcvbufErrors: otherDrops,
      sfuSocketDrops: sfuDrops,
      discarded: otherDrops > 0,
      sink: homeSink.plainSinkKind,
      loadAverage: Number(os.loadavg()[0]!.toFixed(2)),
      note:
        'two node processes (1 mediasoup worker each) on 127.0.0.11 (home) and 127.0.0.12 (edge), redis-server on 127.0.0.1; ' +
        "home subscribers until the product's admission refuses, then EdgeNode.place(); the room's tracks reach the edge over the product's RemotePipe " +
        '(SRTP + RTX PipeTransports, opened through the signed control channel by one EdgePeerMedia that receives nothing); ' +
        "edge subscribers are the product's PlainSubscriber on the EdgeRoom's router (not browsers: their control is the bench's); " +
        `SRTP ${options.srtpSuite} into two C sinks (one per node); no signalling server`,
    };
  } finally {
    generator?.close();
    await Promise.all(sinks.map((s) => s.close()));
    await Promise.all(nodes.map((n) => n.close()));
    await redis?.kill();
  }
}
