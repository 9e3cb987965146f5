// Recording: CPU per recorded ~1 Mbit/s VP8 track, no transcoding. One ffmpeg sender (test picture,
// libvpx at 1 Mbit/s, a keyframe a second) into a PlainTransport producer of a real mediasoup worker;
// `tracks` TrackRecorders tap that producer (each its own PlainTransport consumer, relay and ffmpeg
// muxer), and every segment is encrypted into a RecordingStore on the way to the disk, as in
// production. In the window we read the CPU of the muxers (ffmpeg -c copy), of this process (the
// UDP relays and AES-256-GCM) and of the worker (the extra consumers), per recorded track.
// `npm run bench -- --only=recording --recording-tracks=1,8`; alone, `npx tsx bench/scenarios/recording.ts
// [tracks] [seconds] [warmup]` inside bench/in-netns.sh prints the result as JSON.
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

if (import.meta.url === `file://${process.argv[1]}`) {
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
