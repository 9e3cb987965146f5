// The recorder with real parts: a mediasoup worker, ffmpeg sending VP8 and Opus RTP into it, the
// recorder's ffmpeg muxing to a pipe, the encrypted store, and ffprobe reading what was decrypted.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buffer } from 'node:stream/consumers';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { vp8Parameters } from '../helpers/media.js';
import { cleanupAfterEach, sleep, startTestSfu, waitFor } from '../helpers/testSfu.js';
import { Sfu, SfuError, roomMediaCodecs, type RoomMedia, type Track, type mediasoupTypes as types } from '../../sfu/index.js';
import { trackProducer, type TrackProducer } from '../../sfu/Track.js';
import { TrackRecorder, type RecordedSegment, type SegmentEnd, type SegmentMeta, type RecorderError, type DetachReason } from '../../sfu/recorder/index.js';
import { RecordingStore, type StoredSegment } from '../../server/recording/RecordingStore.js';
import { LocalKeyFile } from '../../server/recording/crypto/LocalKeyFile.js';

const run = promisify(execFile);

const cleanups = cleanupAfterEach();
const startSfu = (): Promise<Sfu> => startTestSfu(cleanups, { workers: 2 });

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-recorder-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A sender: ffmpeg encoding a test picture (VP8, ~1 Mbit/s) and a tone (Opus) as RTP into two PlainTransport producers. */
interface Sender {
  video: TrackProducer;
  audio: TrackProducer;
  process: ChildProcess;
}

const VIDEO_SSRC = 22_222_222;
const AUDIO_SSRC = 11_111_111;

async function startSender(router: types.Router, peerId: string, videoCodec: 'vp8' | 'h264' = 'vp8'): Promise<Sender> {
  const transport = async () => {
    // RTCP on its own port: ffmpeg sends RTP and RTCP from two different sockets, and comedia
    // latches each port onto the first packet it sees.
    const t = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: true });
    cleanups.push(() => t.close());
    return t;
  };
  const videoTransport = await transport();
  const audioTransport = await transport();
  const video = await videoTransport.produce<TrackProducer['appData']>({
    kind: 'video',
    rtpParameters: {
      codecs: [
        videoCodec === 'vp8'
          ? { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }
          : { mimeType: 'video/H264', payloadType: 96, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 }, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] },
      ],
      encodings: [{ ssrc: VIDEO_SSRC }],
    },
    appData: { peerId, source: 'camera' },
  });
  const audio = await audioTransport.produce<TrackProducer['appData']>({
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: AUDIO_SSRC }],
    },
    appData: { peerId, source: 'microphone' },
  });
  const ports = (t: types.PlainTransport) => `${t.tuple.localPort}?rtcpport=${t.rtcpTuple!.localPort}&pkt_size=1200`;
  // -re: real time. A keyframe each second (ffmpeg's encoder ignores PLI, a browser would answer it).
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    // -re is per input: without it on the tone, ffmpeg runs the audio ahead of the picture.
    '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30',
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-map', '0:v',
    ...(videoCodec === 'vp8'
      ? ['-c:v', 'libvpx', '-b:v', '1M', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30']
      : ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-b:v', '1M', '-g', '30']),
    '-payload_type', '96', '-ssrc', String(VIDEO_SSRC), '-f', 'rtp', `rtp://127.0.0.1:${ports(videoTransport)}`,
    '-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k',
    '-payload_type', '100', '-ssrc', String(AUDIO_SSRC), '-f', 'rtp', `rtp://127.0.0.1:${ports(audioTransport)}`,
  ];
  const process = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => process.once('close', () => resolve()));
  cleanups.push(async () => {
    process.kill('SIGKILL');
    await exited;
  });
  return { video, audio, process };
}

/** ffmpeg sending a VP8 test picture (~1 Mbit/s, a keyframe each second) as RTP to a plain publisher's RTP and RTCP ports. */
function sendVp8To(port: number, rtcpPort: number): ChildProcess {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30',
    '-c:v', 'libvpx', '-b:v', '1M', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30',
    '-payload_type', '96', '-ssrc', String(VIDEO_SSRC), '-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${rtcpPort}&pkt_size=1200`,
  ];
  const sender = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => sender.once('close', () => resolve()));
  cleanups.push(async () => {
    sender.kill('SIGKILL');
    await exited;
  });
  return sender;
}

/** A room's plain publisher fed by sendVp8To: the camera track, fanned out. */
async function publishCamera(room: RoomMedia, peerId: string): Promise<{ track: Track; sender: ChildProcess }> {
  const publisher = room.addPlainPublisher(peerId);
  // ffmpeg sends RTCP from a second socket: RTCP gets a port of its own, so comedia latches each right.
  const { port, rtcpPort } = await publisher.open({ rtcpMux: false });
  if (rtcpPort === undefined) throw new Error('no RTCP port without rtcp-mux');
  const track = await publisher.publish(
    'video',
    { codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }], encodings: [{ ssrc: VIDEO_SSRC }] },
    'camera',
  );
  await room.distribute(track);
  return { track, sender: sendVp8To(port, rtcpPort) };
}

/** Everything one recorder produced, its segments written into the store as they come. */
interface Capture {
  recorder: TrackRecorder;
  segments: { meta: SegmentMeta; plainSha: Promise<string>; stored: Promise<StoredSegment>; bytes: () => number }[];
  ends: SegmentEnd[];
  errors: RecorderError[];
  detached: DetachReason[];
}

function capture(recorder: TrackRecorder, store: RecordingStore, recordingId: string): Capture {
  const result: Capture = { recorder, segments: [], ends: [], errors: [], detached: [] };
  recorder.on('segment', (segment: RecordedSegment) => {
    // Tee the muxer's plaintext so the test knows exactly what went into the cipher.
    const tee = new PassThrough();
    const hash = createHash('sha256');
    const plainSha = new Promise<string>((resolve) => tee.on('end', () => resolve(hash.digest('hex'))));
    tee.on('data', (chunk: Buffer) => hash.update(chunk));
    const toStore = new PassThrough();
    let bytes = 0;
    segment.stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      tee.write(chunk);
      toStore.write(chunk);
    });
    segment.stream.on('end', () => {
      tee.end();
      toStore.end();
    });
    tee.resume();
    const stored = store.writeSegment(recordingId, segment.meta, toStore);
    stored.catch(() => undefined); // a failed test's cleanup removes the store under a running write
    result.segments.push({ meta: segment.meta, plainSha, stored, bytes: () => bytes });
  });
  recorder.on('segmentEnd', (_meta, end) => result.ends.push(end));
  recorder.on('error', (error) => result.errors.push(error));
  recorder.on('detached', (reason) => result.detached.push(reason));
  return result;
}

async function openStore(): Promise<{ store: RecordingStore; dir: string }> {
  const dir = await tempDir();
  const store = await RecordingStore.open(join(dir, 'recordings'), await LocalKeyFile.open(dir));
  await store.create('rec1', { roomName: 'physics' });
  return { store, dir };
}

interface Probe {
  formatName: string;
  codec: string;
  frames: number;
  /** Last packet end minus first packet start, seconds. */
  duration: number;
}

/** ffprobe a file: its container, codec, packet count and the time its packets span. */
async function probe(path: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-show_packets', '-of', 'json', path], { maxBuffer: 64 * 1024 * 1024 });
  const json = JSON.parse(stdout) as {
    format: { format_name: string };
    streams: { codec_name: string }[];
    packets: { pts_time: string; duration_time?: string }[];
  };
  const times = json.packets.map((p) => Number(p.pts_time));
  const last = json.packets.at(-1);
  const duration = last ? Number(last.pts_time) + Number(last.duration_time ?? 0) - Math.min(...times) : 0;
  return { formatName: json.format.format_name, codec: json.streams[0]?.codec_name ?? '', frames: json.packets.length, duration };
}

/** Decrypt a stored segment to a file ffprobe can read; returns the path and the SHA-256 of the bytes. */
async function decryptToFile(store: RecordingStore, dir: string, segment: StoredSegment): Promise<{ path: string; sha: string; bytes: Buffer }> {
  const { stream } = await store.openSegment('rec1', segment.segmentId);
  const bytes = await buffer(stream);
  const path = join(dir, `${segment.segmentId}.${segment.container}`);
  await writeFile(path, bytes);
  return { path, sha: createHash('sha256').update(bytes).digest('hex'), bytes };
}

/** CPU seconds (user + system) process `pid` has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Local addresses (hex, as /proc/net/udp writes them) of the UDP sockets process `pid` holds. */
async function udpAddressesOf(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(match[1]!);
  }
  const rows = (await readFile('/proc/net/udp', 'utf8')).split('\n').slice(1).map((line) => line.trim().split(/\s+/));
  return rows.filter((row) => inodes.has(row[9] ?? '')).map((row) => row[1]!);
}

describe('TrackRecorder', () => {
  it('records VP8 and Opus for ~5 s without re-encoding, encrypted, and the decrypted files are what ffprobe reads', async () => {
    const sfu = await startSfu();
    const router = await sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender = await startSender(router, 'ada');
    const { store, dir } = await openStore();
    const video = capture(await TrackRecorder.start({ router, producer: sender.video }), store, 'rec1');
    const audio = capture(await TrackRecorder.start({ router, producer: sender.audio }), store, 'rec1');
    await waitFor('both tracks to start', () => video.segments.length === 1 && audio.segments.length === 1);
    // The muxers listen on loopback only (RTP and RTCP), never on every interface.
    for (const recorder of [video.recorder, audio.recorder]) {
      const addresses = await udpAddressesOf(recorder.muxerPid!);
      expect(addresses).toHaveLength(2);
      for (const address of addresses) expect(address).toMatch(/^0100007F:/);
    }
    const cpuBefore = await Promise.all([video, audio].map((t) => cpuSeconds(t.recorder.muxerPid!)));
    const cpuFrom = Date.now();
    await sleep(5000);
    const cpuAfter = await Promise.all([video, audio].map((t) => cpuSeconds(t.recorder.muxerPid!)));
    const wall = (Date.now() - cpuFrom) / 1000;
    console.log(`recorder muxer CPU: video (1 Mbit/s VP8) ${((100 * (cpuAfter[0]! - cpuBefore[0]!)) / wall).toFixed(2)} % of a core, audio ${((100 * (cpuAfter[1]! - cpuBefore[1]!)) / wall).toFixed(2)} % over ${wall.toFixed(1)} s`);
    const stopAt = Date.now();
    await Promise.all([video.recorder.stop(), audio.recorder.stop()]);

    for (const track of [video, audio]) {
      expect(track.errors).toEqual([]);
      expect(track.segments).toHaveLength(1);
      expect(track.ends).toHaveLength(1);
      expect(track.ends[0]).toMatchObject({ reason: 'stopped' });
    }
    expect(video.segments[0]!.meta).toMatchObject({ trackId: 'ada:camera', kind: 'video', source: 'camera', codec: 'video/VP8', container: 'webm', index: 0, producerId: sender.video.id });
    expect(audio.segments[0]!.meta).toMatchObject({ trackId: 'ada:microphone', kind: 'audio', source: 'microphone', codec: 'audio/opus', container: 'webm', index: 0 });

    const probes: Record<string, Probe> = {};
    for (const [name, track] of Object.entries({ video, audio })) {
      const stored = await track.segments[0]!.stored;
      const file = join(dir, 'recordings', 'rec1', 'segments', stored.file);
      // On disk: not WebM (ffprobe refuses it), and not containing the plaintext's EBML header.
      await expect(run('ffprobe', ['-v', 'error', '-show_format', file])).rejects.toThrow();
      const onDisk = await readFile(file);
      expect(onDisk.subarray(0, 4).toString('ascii')).toBe('LRC1');
      expect(onDisk.includes(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]))).toBe(false);
      expect(createHash('sha256').update(onDisk).digest('hex')).toBe(stored.sha256);
      const { path, sha, bytes } = await decryptToFile(store, dir, stored);
      // Decrypts to exactly the bytes the muxer wrote, which are the bytes ffprobe reads.
      expect(sha).toBe(await track.segments[0]!.plainSha);
      expect(bytes.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]))).toBe(true);
      expect(stored.plaintextSize).toBe(bytes.length);
      probes[name] = await probe(path);
    }
    const recordedVideo = (stopAt - video.segments[0]!.meta.startedAt) / 1000;
    const recordedAudio = (stopAt - audio.segments[0]!.meta.startedAt) / 1000;
    console.log('recorder: video', probes.video, 'recorded', recordedVideo.toFixed(2), 's; audio', probes.audio, 'recorded', recordedAudio.toFixed(2), 's', 'ends', video.ends[0], audio.ends[0], 'start skew ms', video.segments[0]!.meta.startedAt - audio.segments[0]!.meta.startedAt, 'senderClockAt', video.segments[0]!.meta.senderClockAt, audio.segments[0]!.meta.senderClockAt);
    expect(probes.video).toMatchObject({ formatName: 'matroska,webm', codec: 'vp8' });
    expect(probes.audio).toMatchObject({ formatName: 'matroska,webm', codec: 'opus' });
    // The sender aims at 30 fps but slows down on a loaded machine; nothing was lost on the way in
    // (sequence gaps), and the file holds a third of the nominal rate at the very least.
    expect(video.ends[0]!.lost).toBe(0);
    expect(probes.video!.frames).toBeGreaterThan(recordedVideo * 10);
    expect(Math.abs(probes.video!.duration - recordedVideo)).toBeLessThan(1);
    expect(Math.abs(probes.audio!.duration - recordedAudio)).toBeLessThan(1);
    // Both tracks start within a second of each other on the wall clock (the video waits for a keyframe).
    expect(Math.abs(video.segments[0]!.meta.startedAt - audio.segments[0]!.meta.startedAt)).toBeLessThan(1200);
  }, 60_000);

  it('continues in a new segment after its worker is SIGKILLed, once the track is produced again on a live worker', async () => {
    const sfu = await startSfu();
    const first = sfu.pool.workers[0]!;
    const router = await first.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender = await startSender(router, 'ada');
    const { store, dir } = await openStore();
    const video = capture(await TrackRecorder.start({ router, producer: sender.video }), store, 'rec1');
    await waitFor('the first segment', () => video.segments.length === 1);
    await sleep(2500);
    // The muxer writes once it has probed the stream; on a loaded machine that can take a while.
    await waitFor('muxed output of the first segment', () => video.segments[0]!.bytes() > 64 * 1024, 30_000);
    const died = new Promise<void>((resolve) => first.worker.once('died', () => resolve()));
    process.kill(first.worker.pid, 'SIGKILL');
    await died;
    await waitFor('detached', () => video.detached.length === 1);
    expect(video.detached).toEqual(['worker-died']);
    expect(video.recorder.attached).toBe(false);
    await waitFor('the first segment to end', () => video.ends.length === 1);
    expect(video.ends[0]).toMatchObject({ reason: 'source-lost' });

    // What server/rooms does on 'worker-died': the room's media is recreated on a live worker and
    // the participant produces again; the recorder is handed the new producer of the same track.
    sender.process.kill('SIGKILL');
    const live = sfu.pool.workers.find((w) => w !== first && !w.worker.closed)!;
    expect(live.index).not.toBe(first.index);
    const router2 = await live.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender2 = await startSender(router2, 'ada');
    await video.recorder.attach({ router: router2, producer: sender2.video });
    await waitFor('the second segment', () => video.segments.length === 2);
    await sleep(2500);
    await waitFor('muxed output of the second segment', () => video.segments[1]!.bytes() > 64 * 1024, 30_000);
    await video.recorder.stop();

    expect(video.errors).toEqual([]);
    expect(video.segments.map((s) => s.meta.index)).toEqual([0, 1]);
    expect(video.segments.map((s) => s.meta.trackId)).toEqual(['ada:camera', 'ada:camera']);
    expect(video.segments[1]!.meta.producerId).toBe(sender2.video.id);
    expect(video.ends.map((e) => e.reason)).toEqual(['source-lost', 'stopped']);
    for (const segment of video.segments) {
      const stored = await segment.stored;
      const { path, sha } = await decryptToFile(store, dir, stored);
      expect(sha).toBe(await segment.plainSha);
      const probed = await probe(path);
      const end = video.ends[segment.meta.index]!;
      console.log('recorder after worker kill: segment', segment.meta.index, probed, 'frames relayed', end.frames);
      expect(probed).toMatchObject({ formatName: 'matroska,webm', codec: 'vp8' });
      expect(probed.frames).toBeGreaterThan(30); // over a second of video in each segment
      // Every frame that reached the muxer is in the file, the one whose source died too: its last
      // cluster (up to a second here, a keyframe each second) is not lost with the worker. One
      // frame of slack: the worker may have died between two packets of its last frame.
      expect(probed.frames).toBeGreaterThanOrEqual(end.frames - 1);
      expect(probed.frames).toBeLessThanOrEqual(end.frames);
    }
    expect((await store.manifest('rec1')).segments.map((s) => s.complete)).toEqual([true, true]);
  }, 90_000);

  it('reports a muxer crash and carries on in a new segment', async () => {
    const sfu = await startSfu();
    const router = await sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender = await startSender(router, 'ada');
    const { store, dir } = await openStore();
    const audio = capture(await TrackRecorder.start({ router, producer: sender.audio }), store, 'rec1');
    await waitFor('the first segment', () => audio.segments.length === 1);
    await sleep(1500);
    await waitFor('muxed output of the first segment', () => audio.segments[0]!.bytes() > 4096, 30_000);
    const pid = audio.recorder.muxerPid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('the crash report', () => audio.errors.length === 1);
    expect(audio.errors[0]).toMatchObject({ name: 'RecorderError', reason: 'muxer-crashed', trackId: 'ada:microphone' });
    expect(audio.errors[0]!.message).toMatch(/SIGKILL/);
    await waitFor('a new segment', () => audio.segments.length === 2);
    expect(audio.recorder.muxerPid).not.toBe(pid);
    await sleep(1500);
    await waitFor('muxed output of the second segment', () => audio.segments[1]!.bytes() > 4096, 30_000);
    await audio.recorder.stop();
    expect(audio.ends.map((e) => e.reason)).toEqual(['crashed', 'stopped']);
    // The crashed segment has no trailer but what was captured is stored, encrypted and readable.
    for (const segment of audio.segments) {
      const { path, sha } = await decryptToFile(store, dir, await segment.stored);
      expect(sha).toBe(await segment.plainSha);
      expect((await probe(path)).codec).toBe('opus');
    }
  }, 60_000);

  it('records H.264 into Matroska without re-encoding', async () => {
    const sfu = await startSfu();
    const router = await sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender = await startSender(router, 'bob', 'h264');
    const { store, dir } = await openStore();
    const video = capture(await TrackRecorder.start({ router, producer: sender.video }), store, 'rec1');
    await waitFor('the first segment', () => video.segments.length === 1);
    await sleep(3000);
    await waitFor('muxed output', () => video.segments[0]!.bytes() > 64 * 1024, 30_000);
    const stopAt = Date.now();
    await video.recorder.stop();
    expect(video.errors).toEqual([]);
    expect(video.segments[0]!.meta).toMatchObject({ trackId: 'bob:camera', codec: 'video/H264', container: 'mkv' });
    const { path, sha } = await decryptToFile(store, dir, await video.segments[0]!.stored);
    expect(sha).toBe(await video.segments[0]!.plainSha);
    const probed = await probe(path);
    console.log('recorder H.264:', probed, 'recorded', (stopAt - video.segments[0]!.meta.startedAt) / 1000, 's');
    expect(probed).toMatchObject({ formatName: 'matroska,webm', codec: 'h264' });
    expect(Math.abs(probed.duration - (stopAt - video.segments[0]!.meta.startedAt) / 1000)).toBeLessThan(1);
  }, 60_000);

  it('reports a closed producer as detached and ends the segment cleanly', async () => {
    const sfu = await startSfu();
    const router = await sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender = await startSender(router, 'ada');
    const { store } = await openStore();
    const audio = capture(await TrackRecorder.start({ router, producer: sender.audio }), store, 'rec1');
    await waitFor('the first segment', () => audio.segments.length === 1);
    await waitFor('muxed output', () => audio.segments[0]!.bytes() > 4096, 30_000);
    sender.audio.close();
    await waitFor('detached', () => audio.detached.length === 1);
    expect(audio.detached).toEqual(['producer-closed']);
    await waitFor('the segment to end', () => audio.ends.length === 1);
    expect(audio.ends[0]).toMatchObject({ reason: 'source-lost' });
    expect((await audio.segments[0]!.stored).complete).toBe(true);
    await audio.recorder.stop();
    expect(audio.errors).toEqual([]);
  }, 60_000);

  it('records a room participant\'s track through the room\'s recorder subscriber (placed and counted like any), and refuses unknown ids', async () => {
    const sfu = await startSfu();
    const room = await sfu.createRoomMedia('physics');
    const ada = room.addPeer('ada');
    const send = await ada.createTransport('send');
    const track = await ada.publish(send.id, 'video', vp8Parameters(), 'camera');
    const producer = trackProducer(track);
    await expect(room.tap('no-such-producer')).rejects.toMatchObject({ name: 'SfuError', reason: 'not_found' });
    const consumersBefore = sfu.load().workers.reduce((n, w) => n + w.consumers, 0);
    // No browser sends here, so no frame arrives: the recorder waits (asking for keyframes) and
    // stops cleanly without a segment.
    const recorder = await room.recordTrack(producer.id);
    expect(recorder.trackId).toBe('ada:camera');
    // The recorder's tap is a consumer on a worker like a browser's, counted where placement sees it.
    expect(sfu.load().workers.reduce((n, w) => n + w.consumers, 0)).toBe(consumersBefore + 1);
    // One recorder per track at a time.
    await expect(room.tap(producer.id)).rejects.toBeInstanceOf(SfuError);
    const segments: SegmentMeta[] = [];
    recorder.on('segment', (segment) => segments.push(segment.meta));
    const ended = new Promise<void>((resolve) => recorder.once('end', () => resolve()));
    await sleep(700);
    await recorder.stop();
    await ended;
    expect(segments).toEqual([]);
    // Stopped: its consumer is gone, and uncounted.
    expect(sfu.load().workers.reduce((n, w) => n + w.consumers, 0)).toBe(consumersBefore);
    // The room closing is what a recorder sees when the class ends.
    const second = await room.recordTrack(producer.id);
    const detached = new Promise<string>((resolve) => second.once('detached', (reason) => resolve(reason)));
    room.close();
    expect(await detached).toBe('room-closed');
    await second.stop();
  }, 60_000);

  it('through the room\'s recorder subscriber: asks for a keyframe at start, and after its worker is SIGKILLed continues in a new segment on the room\'s new media', async () => {
    const sfu = await startSfu();
    const room = await sfu.createRoomMedia('physics');
    const first = await publishCamera(room, 'ada');
    const { store, dir } = await openStore();
    const video = capture(await room.recordTrack(first.track.id), store, 'rec1');
    await waitFor('the first segment', () => video.segments.length === 1);
    await sleep(2000);
    await waitFor('muxed output of the first segment', () => video.segments[0]!.bytes() > 64 * 1024, 30_000);
    const dead = sfu.pool.workers.find((w) => w.index === room.workerIndex)!;
    const roomClosed = new Promise<string>((resolve) => room.once('close', (reason) => resolve(reason)));
    process.kill(dead.worker.pid, 'SIGKILL');
    expect(await roomClosed).toBe('worker-died');
    await waitFor('detached', () => video.detached.length === 1);
    expect(video.detached).toEqual(['worker-died']);
    await waitFor('the first segment to end', () => video.ends.length === 1);

    // What server/rooms does on 'worker-died': new media for the room on a live worker, the
    // participant publishes again, and the recorder is handed the room recorder's tap on the new track.
    first.sender.kill('SIGKILL');
    const moved = await sfu.createRoomMedia('physics');
    expect(moved.workerIndex).not.toBe(dead.index);
    const second = await publishCamera(moved, 'ada');
    await video.recorder.attach(await moved.tap(second.track.id));
    await waitFor('the second segment', () => video.segments.length === 2);
    await sleep(2000);
    await waitFor('muxed output of the second segment', () => video.segments[1]!.bytes() > 64 * 1024, 30_000);
    await video.recorder.stop();

    expect(video.errors).toEqual([]);
    expect(video.segments.map((s) => [s.meta.index, s.meta.trackId, s.meta.producerId])).toEqual([
      [0, 'ada:camera', first.track.id],
      [1, 'ada:camera', second.track.id],
    ]);
    expect(video.ends.map((e) => e.reason)).toEqual(['source-lost', 'stopped']);
    // Each segment began with a keyframe request (PLI to the publisher), the recorder's first move.
    for (const end of video.ends) expect(end.keyFrameRequests).toBeGreaterThanOrEqual(1);
    for (const segment of video.segments) {
      const { path } = await decryptToFile(store, dir, await segment.stored);
      const probed = await probe(path);
      expect(probed).toMatchObject({ formatName: 'matroska,webm', codec: 'vp8' });
      expect(probed.frames).toBeGreaterThan(30);
      // Every frame relayed is in the file, the dead worker's segment's last cluster too.
      const relayed = video.ends[segment.meta.index]!.frames;
      expect(probed.frames).toBeGreaterThanOrEqual(relayed - 1);
      expect(probed.frames).toBeLessThanOrEqual(relayed);
    }
    // The recorder's tap was counted on the live worker; stopped, nothing is left there.
    expect(sfu.load().workers.reduce((n, w) => n + w.consumers, 0)).toBe(0);
  }, 90_000);
});
