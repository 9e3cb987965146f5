// Seekable recordings with real parts: ffmpeg sends VP8 and Opus RTP into a mediasoup worker, the
// recorder muxes them to a pipe (no Cues, no Duration: ffmpeg cannot go back in a pipe) and the
// store encrypts them, building each segment's seek index on the way. What a player is served
// (decrypted, through a pipe into ffprobe) has the recorded duration and Cues that point at
// clusters; the muxer's own bytes have neither.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import ebml from 'ts-ebml';
import { roomMediaCodecs } from '../../sfu/index.js';
import { cleanupAfterEach, sleep, startTestSfu, waitFor } from '../helpers/testSfu.js';
import { TrackRecorder, type RecordedSegment } from '../../sfu/recorder/index.js';
import { RecordingStore, type StoredSegment } from '../../server/recording/RecordingStore.js';
import { LocalKeyFile } from '../../server/recording/crypto/LocalKeyFile.js';
import { startClockSender } from '../helpers/rtpSender.js';
import { firstFrameClock, probedDuration, withStdin } from '../helpers/clockMedia.js';

const cleanups = cleanupAfterEach();

async function read(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Cue points of a WebM (CueTime in ms, cluster position from the Segment's data) and where its Segment's data starts. */
function cuesOf(bytes: Buffer): { segmentDataStart: number; cues: { time: number; position: number }[] } {
  const decoder = new ebml.Decoder();
  let segmentDataStart = -1;
  const cues: { time: number; position: number }[] = [];
  let time = -1;
  for (const e of decoder.decode(new Uint8Array(bytes).buffer)) {
    if (e.name === 'Segment' && e.type === 'm' && !e.isEnd) segmentDataStart = e.dataStart;
    if (e.name === 'CueTime' && 'value' in e) time = Number(e.value);
    if (e.name === 'CueClusterPosition' && 'value' in e) cues.push({ time, position: Number(e.value) });
  }
  return { segmentDataStart, cues };
}

/** Last packet end minus first packet start of a file read from a pipe, as ffprobe sees its packets (s). */
async function packetSpan(bytes: Buffer): Promise<number> {
  const { stdout } = await withStdin('ffprobe', ['-v', 'error', '-show_packets', '-of', 'json', '-i', 'pipe:0'], bytes);
  const packets = (JSON.parse(stdout.toString()) as { packets: { pts_time: string; duration_time?: string }[] }).packets;
  const last = packets.at(-1)!;
  return Number(last.pts_time) + Number(last.duration_time ?? 0) - Math.min(...packets.map((p) => Number(p.pts_time)));
}

describe('seek index', () => {
  it('a recorded segment is served with its Duration (within 0.3 s of the time it recorded) and Cues at its keyframes', async () => {
    const sfu = await startTestSfu(cleanups);
    const router = await sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender = await startClockSender(router, 'ada');
    cleanups.push(() => sender.close());
    const dir = await mkdtemp(join(tmpdir(), 'lectern-seek-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await RecordingStore.open(join(dir, 'recordings'), await LocalKeyFile.open(dir));
    await store.create('rec1');

    const stored: Promise<StoredSegment>[] = [];
    const metas: RecordedSegment['meta'][] = [];
    const raw: Promise<Buffer>[] = [];
    // Each recorder is listened to as soon as it exists: the other may still be starting.
    const listen = (recorder: TrackRecorder): TrackRecorder =>
      recorder.on('segment', (segment) => {
        metas.push(segment.meta);
        const tee = new PassThrough();
        const toStore = new PassThrough();
        segment.stream.pipe(tee);
        segment.stream.pipe(toStore);
        raw.push(read(tee));
        stored.push(store.writeSegment('rec1', segment.meta, toStore));
      });
    const recorders = await Promise.all([sender.video, sender.audio].map(async (producer) => listen(await TrackRecorder.start({ router, producer }))));
    await waitFor('both tracks to start', () => metas.length === 2, 60_000).catch(async (error: Error) => {
      // Where the missing track stopped: at the sender (the producer's packet count) or after it.
      const received = await Promise.all([sender.video, sender.audio].map(async (p) => `${p.kind} ${(await p.getStats()).map((s) => s.packetCount).join('/')} packets in`));
      throw new Error(`${error.message}: started ${metas.map((m) => m.kind).join(', ') || 'none'}; ${received.join(', ')}; sender ${sender.process.exitCode === null ? 'running' : `exited ${sender.process.exitCode}`} ${sender.stderr()}`);
    });
    await sleep(8000);
    const stopAt = Date.now();
    await Promise.all(recorders.map((r) => r.stop()));
    const segments = await Promise.all(stored);
    const plain = await Promise.all(raw);

    for (const [i, segment] of segments.entries()) {
      const wall = (stopAt - metas[i]!.startedAt) / 1000;
      // What was recorded: the media time the muxer's own file spans (ffprobe's packets). On a
      // loaded machine the sender lags and catches up, so the wall clock is only roughly that.
      const recorded = await packetSpan(plain[i]!);
      expect(Math.abs(recorded - wall)).toBeLessThan(1.5);
      expect(segment.seekError).toBeUndefined();
      expect(segment.seek).toMatchObject({ file: `${segment.segmentId}.seek.enc` });
      // The muxer's bytes, as stored: no duration.
      const { stream: rawStream } = await store.openSegment('rec1', segment.segmentId);
      const stillRaw = await read(rawStream);
      expect(stillRaw.equals(plain[i]!)).toBe(true);
      expect(await probedDuration(stillRaw)).toBeNaN();
      expect(cuesOf(stillRaw).cues).toEqual([]);
      // What a player is served: the seekable view.
      const opened = await store.openPlayback('rec1', segment.segmentId);
      expect(opened.seekable).toBe(true);
      const served = await read(opened.stream);
      expect(served.length).toBe(opened.size);
      expect(served.length).toBe(store.playbackSize(segment));
      const duration = await probedDuration(served);
      console.log(`seek index: ${segment.kind} recorded ${recorded.toFixed(2)} s (${wall.toFixed(2)} s of wall clock), ffprobe ${duration.toFixed(3)} s, ${segment.seek!.cues} cues, head ${segment.seek!.headSize} B, ${segment.plaintextSize} -> ${served.length} B`);
      expect(Math.abs(duration - recorded)).toBeLessThan(0.3);
      // Cues that point at Cluster elements, in time order, covering the file.
      const { segmentDataStart, cues } = cuesOf(served);
      expect(cues.length).toBeGreaterThan(1);
      expect(cues.length).toBe(segment.seek!.cues);
      for (const cue of cues) expect(served.subarray(segmentDataStart + cue.position, segmentDataStart + cue.position + 4).toString('hex')).toBe('1f43b675');
      expect(cues.map((c) => c.time)).toEqual([...cues.map((c) => c.time)].sort((a, b) => a - b));
      expect(cues.at(-1)!.time / 1000).toBeGreaterThan(recorded / 2);
      if (segment.kind === 'video') {
        // Every cue of the video is a keyframe (sender: one every 2 s), and the picture is intact.
        expect(cues.length).toBeGreaterThanOrEqual(Math.floor(recorded / 2) - 1);
        expect(await firstFrameClock(served)).toBe(await firstFrameClock(plain[i]!));
      }
    }
  }, 90_000);
});
