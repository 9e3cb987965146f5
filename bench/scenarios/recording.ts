// Recording: CPU per recorded ~1 Mbit/s VP8 track, no transcoding. One ffmpeg sender (test picture,
// libvpx at 1 Mbit/s, a keyframe a second) into a PlainTransport producer of a real mediasoup worker;
// `tracks` TrackRecorders tap that producer (each its own PlainTransport consumer, relay and ffmpeg
// muxer), and every segment is encrypted into a RecordingStore on the way to the disk, as in
// production. In the window we read the CPU of the muxers (ffmpeg -c copy), of this process (the
// UDP relays and AES-256-GCM) and of the worker (the extra consumers), per recorded track.
// `npm run bench -- --only=recording --recording-tracks=1,8`; alone, `npx tsx bench/scenarios/recording.ts
// [tracks] [seconds] [warmup]` inside bench/in-netns.sh prints the result as JSON.
//
// Alongside a class (measureRecordingWithClass): the class scenario (bench/scenarios/class.ts: a
// real Lectern process, every participant a WebRTC bot) runs twice with the same size, first
// unrecorded, then with `tracks` of its own tracks (cameras first) recorded by the product's
// recorder into the server's encrypted store. Per recorded track: the muxers' CPU, and what the
// server process (relays, AES-256-GCM, seek index) and the SFU workers spent more than without;
// loss at the class's bots both times, and at the recorders' relays.
// `npm run bench -- --only=recording --recording-class=60,12,8` (participants, cameras, tracks);
// alone, `npx tsx bench/scenarios/recording.ts class <participants> <cameras> <tracks> [window]`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sfu, roomMediaCodecs } from '../../sfu/index.js';
import type { TrackProducer } from '../../sfu/Track.js';
import { TrackRecorder } from '../../sfu/recorder/index.js';
import { RecordingStore } from '../../server/recording/RecordingStore.js';
import { LocalKeyFile } from '../../server/recording/crypto/LocalKeyFile.js';
import { cpuMicros } from '../lib/proc.js';
import { measureClass, type ClassOptions, type ClassRecording, type ClassResult } from './class.js';

export interface RecordingOptions {
  /** Recorders of the one producer. */
  tracks: number;
  windowSeconds: number;
  warmupSeconds: number;
}

export interface RecordingResult {
  tracks: number;
  windowSeconds: number;
  /** Bitrate the producer received in the window, bits/s. */
  producerBitrate: number;
  /** Percent of one core, per recorded track. */
  muxerCpuPerTrack: number;
  nodeCpuPerTrack: number;
  workerCpuPerTrack: number;
  totalCpuPerTrack: number;
  /** Plaintext bytes muxed in the window, all tracks. */
  muxedBytes: number;
  /** Sequence gaps seen by the relays (should be 0 on loopback). */
  lost: number;
  errors: string[];
}

/** Record one ~1 Mbit/s VP8 producer `tracks` times and report CPU per recorded track. */
export async function measureRecording(options: RecordingOptions): Promise<RecordingResult> {
  const sfu = await Sfu.create({ workers: 1, listenIp: '127.0.0.1', rtcPort: 0, logLevel: 'warn', maxIncomingBitrate: 3_000_000, initialAvailableOutgoingBitrate: 1_000_000, respawn: false });
  const dir = await mkdtemp(join(tmpdir(), 'lectern-bench-recording-'));
  const worker = sfu.pool.workers[0]!.worker;
  let ffmpeg: ReturnType<typeof spawn> | undefined;
  const errors: string[] = [];
  try {
    const router = await worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: true });
    const ssrc = 22_222_222;
    const producer = await transport.produce<TrackProducer['appData']>({
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }], encodings: [{ ssrc }] },
      appData: { peerId: 'bench', source: 'camera' },
    });
    ffmpeg = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
      '-c:v', 'libvpx', '-b:v', '1M', '-minrate', '1M', '-maxrate', '1M', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30',
      '-payload_type', '96', '-ssrc', String(ssrc), '-f', 'rtp',
      `rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple!.localPort}&pkt_size=1200`,
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const store = await RecordingStore.open(join(dir, 'recordings'), await LocalKeyFile.open(dir));
    await store.create('bench');
    const recorders: TrackRecorder[] = [];
    let muxedBytes = 0;
    let lost = 0;
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < options.tracks; i++) {
      const recorder = await TrackRecorder.start({ router, producer });
      recorder.on('segment', (segment) => {
        segment.stream.on('data', (chunk: Buffer) => (muxedBytes += chunk.length));
        writes.push(store.writeSegment('bench', segment.meta, segment.stream).catch((error: Error) => errors.push(error.message)));
      });
      recorder.on('segmentEnd', (_meta, end) => (lost += end.lost));
      recorder.on('error', (error) => errors.push(error.message));
      recorders.push(recorder);
    }
    await sleep(options.warmupSeconds * 1000);
    const pids = recorders.map((r) => r.muxerPid).filter((pid): pid is number => pid !== undefined);
    const muxerCpu = () => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
    const before = { muxers: muxerCpu(), node: process.cpuUsage(), worker: cpuMicros(worker.pid), bytes: muxedBytes, producer: (await producer.getStats())[0]?.byteCount ?? 0, at: process.hrtime.bigint() };
    await sleep(options.windowSeconds * 1000);
    const wallMicros = Number(process.hrtime.bigint() - before.at) / 1000;
    const node = process.cpuUsage(before.node);
    const percent = (micros: number) => (100 * micros) / wallMicros / options.tracks;
    const producerBytes = ((await producer.getStats())[0]?.byteCount ?? 0) - before.producer;
    const result: RecordingResult = {
      tracks: options.tracks,
      windowSeconds: options.windowSeconds,
      producerBitrate: Math.round((producerBytes * 8) / (wallMicros / 1e6)),
      muxerCpuPerTrack: percent(muxerCpu() - before.muxers),
      nodeCpuPerTrack: percent(node.user + node.system),
      workerCpuPerTrack: percent(cpuMicros(worker.pid) - before.worker),
      totalCpuPerTrack: 0,
      muxedBytes: muxedBytes - before.bytes,
      lost: 0,
      errors,
    };
    // The worker also forwards the producer itself; with tracks >= 4 its share per track is mostly consumers.
    result.totalCpuPerTrack = result.muxerCpuPerTrack + result.nodeCpuPerTrack + result.workerCpuPerTrack;
    await Promise.all(recorders.map((r) => r.stop()));
    await Promise.all(writes);
    result.lost = lost;
    return result;
  } finally {
    ffmpeg?.kill('SIGKILL');
    sfu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** One run of the class, as the comparison needs it. */
export interface ClassRun {
  joined: number;
  sfuCpuPercent: number;
  serverCpuPercent: number;
  /** Loss at the class's bots. */
  loss: number;
  flagged: number;
  allReceiving: boolean;
  loadAverage: number;
}

export interface RecordingWithClassResult {
  participants: number;
  cameras: number;
  tracks: number;
  without: ClassRun;
  with: ClassRun;
  recording: ClassRecording | undefined;
  /** Percent of one core per recorded track: the muxers, and the difference the recording made to the server process and the SFU. */
  perTrack: { muxer: number; server: number; sfu: number; total: number };
}

function run(r: ClassResult): ClassRun {
  return {
    joined: r.joined,
    sfuCpuPercent: r.sfuCpuPercentPerWorker.reduce((a, c) => a + c, 0),
    serverCpuPercent: r.serverCpuPercent,
    loss: r.loss,
    flagged: r.flagged.length,
    allReceiving: r.allReceiving,
    loadAverage: r.loadAverage,
  };
}

/** The class unrecorded, then with `tracks` of it recorded: what recording alongside a class costs. */
export async function measureRecordingWithClass(options: ClassOptions, tracks: number): Promise<RecordingWithClassResult> {
  const without = await measureClass({ ...options, record: 0 });
  const recorded = await measureClass({ ...options, record: tracks });
  const a = run(without);
  const b = run(recorded);
  const n = Math.max(1, recorded.recording?.tracks ?? 0);
  const perTrack = {
    muxer: recorded.recording?.muxerCpuPercentPerTrack ?? 0,
    server: (b.serverCpuPercent - a.serverCpuPercent) / n,
    sfu: (b.sfuCpuPercent - a.sfuCpuPercent) / n,
    total: 0,
  };
  perTrack.total = perTrack.muxer + perTrack.server + perTrack.sfu;
  return { participants: recorded.participants, cameras: recorded.cameras, tracks: recorded.recording?.tracks ?? 0, without: a, with: b, recording: recorded.recording, perTrack };
}

/** The class options the bench uses by default (bench/run.ts's class scenario), at a given size. */
export function classOptions(participants: number, cameras: number, windowSeconds: number): ClassOptions {
  return {
    participants,
    cameras,
    microphones: Math.min(3, participants),
    pageSize: 25,
    maxVideoConsumers: 25,
    clip: { width: 160, height: 90, fps: 15, kbps: 60 },
    botThreads: 2,
    windowSeconds,
    warmupSeconds: 5,
    readyTimeoutSeconds: 120,
  };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'class') {
  const [participants = 6, cameras = 2, tracks = 2, windowSeconds = 10] = process.argv.slice(3).map(Number);
  measureRecordingWithClass(classOptions(participants, cameras, windowSeconds), tracks).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const tracks = Number(process.argv[2] ?? 8);
  const windowSeconds = Number(process.argv[3] ?? 20);
  measureRecording({ tracks, windowSeconds, warmupSeconds: Number(process.argv[4] ?? 5) }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
