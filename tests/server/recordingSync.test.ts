// A/V alignment from RTCP sender reports, with real parts: ffmpeg sends a picture whose bar is its
// clock and a tone that beeps at every even second of the same clock (tests/helpers/rtpSender.ts)
// into a mediasoup worker; the video's RTP goes through a relay that holds it 400 ms (its RTCP does
// not: a slower path for one track). The microphone is recorded first, the camera 2.5 s later.
// The true offset between the two files is read off the files themselves (the first frame's bar,
// the beeps); the offset the playback API gives (segmentStarts, from the producer's sender reports)
// is within 100 ms of it, where the arrival times alone are ~400 ms off.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roomMediaCodecs } from '../../sfu/index.js';
import { cleanupAfterEach, sleep, startTestSfu, waitFor } from '../helpers/testSfu.js';
import { TrackRecorder, type RecordedSegment } from '../../sfu/recorder/index.js';
import { RecordingStore, type StoredSegment } from '../../server/recording/RecordingStore.js';
import { LocalKeyFile } from '../../server/recording/crypto/LocalKeyFile.js';
import { segmentStarts } from '../../server/recording/trackAlignment.js';
import { BEEP_PERIOD_S, startClockSender } from '../helpers/rtpSender.js';
import { beeps, firstFrameClock } from '../helpers/clockMedia.js';

const VIDEO_DELAY_MS = 400;
const cleanups = cleanupAfterEach();

describe('A/V alignment', () => {
  it('a track started later, on a slower path, is offset by its capture time (within 100 ms of the true offset)', async () => {
    const sfu = await startTestSfu(cleanups);
    const router = await sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    const sender = await startClockSender(router, 'ada', { videoDelayMs: VIDEO_DELAY_MS });
    cleanups.push(() => sender.close());
    const dir = await mkdtemp(join(tmpdir(), 'lectern-sync-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await RecordingStore.open(join(dir, 'recordings'), await LocalKeyFile.open(dir));
    await store.create('rec1');
    const recordingStart = Date.now();

    const written: Promise<StoredSegment>[] = [];
    const metas: RecordedSegment['meta'][] = [];
    const record = async (producer: typeof sender.audio) => {
      const recorder = await TrackRecorder.start({ router, producer });
      // What RecordingSession does: store the stream, then note how the segment ended.
      recorder.on('segment', (segment) => {
        metas.push(segment.meta);
        written.push(
          store.writeSegment('rec1', segment.meta, segment.stream).then(async (stored) => {
            await store.recordSegmentEnd('rec1', stored.segmentId, await segment.done);
            return stored;
          }),
        );
      });
      return recorder;
    };
    const microphone = await record(sender.audio);
    await waitFor('the microphone to start', () => metas.length === 1, 60_000);
    await sleep(2500);
    const camera = await record(sender.video);
    await waitFor('the camera to start', () => metas.length === 2, 60_000);
    await sleep(6000);
    await Promise.all([microphone.stop(), camera.stop()]);
    await Promise.all(written);
    const segments = (await store.manifest('rec1')).segments;
    const audio = segments.find((s) => s.kind === 'audio')!;
    const video = segments.find((s) => s.kind === 'video')!;
    expect(audio.capture).toBeDefined();
    expect(video.capture).toBeDefined();

    const bytes = async (s: StoredSegment) => Buffer.concat(await (await store.openSegment('rec1', s.segmentId)).stream.toArray());
    // The truth, from the files: the sender's clock at the video file's first frame, and at the
    // audio file's start (a beep starts at every even second of that clock).
    const videoStart = await firstFrameClock(await bytes(video));
    // A whole beep (the first may be cut by the file's start), 100 to 400 ms long.
    const beep = (await beeps(await bytes(audio))).find((b) => b.at > 0.05 && b.index >= 0 && b.index <= 3);
    expect(beep).toBeDefined();
    const arrival = (video.startedAt - audio.startedAt) / 1000;
    // The beep is the sender's k-th (at 2k s), k = index mod 4: the audio file starts at 2k - at,
    // for the k nearest what the arrival times suggest (they are off by far less than 4 s).
    const guess = videoStart - arrival;
    const cycle = 4 * BEEP_PERIOD_S;
    const first = BEEP_PERIOD_S * beep!.index - beep!.at;
    const audioStart = first + cycle * Math.round((guess - first) / cycle);
    const truth = videoStart - audioStart;

    const starts = segmentStarts(segments, recordingStart);
    expect(starts.get(audio.segmentId)!.clock).toBe('sender');
    expect(starts.get(video.segmentId)!.clock).toBe('sender');
    const aligned = (starts.get(video.segmentId)!.offsetMs - starts.get(audio.segmentId)!.offsetMs) / 1000;
    console.log(`A/V alignment: true offset ${truth.toFixed(3)} s, from sender reports ${aligned.toFixed(3)} s (error ${((aligned - truth) * 1000).toFixed(0)} ms), by arrival ${arrival.toFixed(3)} s (error ${((arrival - truth) * 1000).toFixed(0)} ms); beep ${beep!.index} at ${beep!.at.toFixed(3)} s`);
    expect(truth).toBeGreaterThan(2);
    expect(Math.abs(aligned - truth)).toBeLessThan(0.1);
    // The slower path is real: by arrival alone the video would be placed ~400 ms late.
    expect(arrival - truth).toBeGreaterThan(0.2);
  }, 120_000);
});
