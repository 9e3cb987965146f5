// The playback page seeks in a recorded track, in real Chromium. The recording is real: ffmpeg sends
// a picture whose white bar is the sender's clock (tests/helpers/rtpSender.ts) into the server's
// own mediasoup worker, the recorder muxes it to a pipe (no Cues, no Duration) and the server's
// store encrypts it with its seek index. The page knows the track's duration, and after
// `currentTime = duration / 2` the `seeked` event fires and the frame shown is the one recorded
// at that time (read off the bar). Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { startClockSender, BAR_PERIOD_S, BAR_PX_PER_SECOND } from '../helpers/rtpSender.js';
import { barSeconds, withStdin } from '../helpers/clockMedia.js';
import { roomMediaCodecs } from '../../sfu/index.js';
import { TrackRecorder } from '../../sfu/recorder/index.js';
import type { StoredSegment } from '../../server/recording/RecordingStore.js';

const ROOM = 'seek-room';
const RECORD_MS = 10_000;

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const errors = new PageErrors();
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh').toEqual([]);
  lectern = await startLectern({ auth: { tokenSecret: 'browser-seek-secret-at-least-32-bytes!!' } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  for (const close of closers.reverse()) await close();
  await lectern?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('playback page seeking', () => {
  it('seeks to the middle of a recorded track: seeked fires and the frame of that time is shown', async () => {
    const token = await lectern.authenticator.issueRoomToken({ room: ROOM, role: 'instructor', subject: 'teacher@uni' });
    const client = await SignallingClient.connect(lectern.wsUrl);
    closers.push(() => client.close());
    const joined = await client.ok('join', { room: ROOM, displayName: 'Teacher', token });
    await client.ok('createTransport', { direction: 'recv' });
    await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    const recordingId = (await client.ok('startRecording', {})).recordingId as string;

    // A real recorded track in this server's store, from this server's own worker.
    const router = await lectern.sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
    closers.push(() => router.close());
    const sender = await startClockSender(router, joined.peerId as string);
    closers.push(() => sender.close());
    const recorder = await TrackRecorder.start({ router, producer: sender.video });
    let stored: Promise<StoredSegment> | undefined;
    let startedAt = 0;
    recorder.on('segment', (segment) => {
      startedAt = segment.meta.startedAt;
      stored = lectern.recordings.store.writeSegment(recordingId, segment.meta, segment.stream);
    });
    const deadline = Date.now() + 60_000;
    while (!stored && Date.now() < deadline) await sleep(50);
    expect(stored, 'the recorder started a segment').toBeDefined();
    await sleep(RECORD_MS);
    const stopAt = Date.now();
    await recorder.stop();
    const segment = await stored!;
    expect(segment.seek).toBeDefined();
    await client.ok('stopRecording', {});
    await lectern.recordings.settled(recordingId);
    const recorded = (stopAt - startedAt) / 1000;
    // What the file holds, read off its own first and last frames (the bar is the sender's clock):
    // the yardstick for the duration, whatever the sender's pace on a loaded machine.
    const rows = (await withStdin('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-vf', 'scale=320:1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], Buffer.concat(await (await lectern.recordings.store.openSegment(recordingId, segment.segmentId)).stream.toArray()))).stdout;
    const held = barSeconds(rows.subarray(rows.length - 320)) - barSeconds(rows.subarray(0, 320)) + 1 / 30;

    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    contexts.push(context);
    const page = errors.watch(await context.newPage(), 'playback');
    await page.goto(`${lectern.url}/play/${recordingId}#token=${encodeURIComponent(token)}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    const seen = await page.evaluate(async ({ pxPerSecond }) => {
      const video = document.getElementById('play-video') as HTMLVideoElement;
      if (video.readyState < 1) await new Promise((resolve) => video.addEventListener('loadedmetadata', resolve, { once: true }));
      // `seeked` can fire before the new frame is painted (a black canvas read as clock 0 failed a
      // full-suite run): wait for the frame to be presented too, or a second at most.
      const seek = async (time: number) => {
        const presented = new Promise<void>((resolve) => {
          video.requestVideoFrameCallback(() => resolve());
          setTimeout(resolve, 1000);
        });
        const seeked = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 20_000);
          video.addEventListener('seeked', () => { clearTimeout(timer); resolve(true); }, { once: true });
          video.currentTime = time;
        });
        await presented;
        return seeked;
      };
      /** The sender's clock in the frame shown: white columns of the middle row. */
      const clock = () => {
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const context2d = canvas.getContext('2d')!;
        context2d.drawImage(video, 0, 0);
        const row = context2d.getImageData(0, Math.floor(canvas.height / 2), canvas.width, 1).data;
        let white = 0;
        for (let x = 0; x < canvas.width; x++) if (row[x * 4]! > 128) white++;
        return white / pxPerSecond;
      };
      const duration = video.duration;
      const atStart = await seek(0);
      const start = clock();
      const atMiddle = await seek(duration / 2);
      return { duration, atStart, start, atMiddle, middle: clock(), currentTime: video.currentTime };
    }, { pxPerSecond: BAR_PX_PER_SECOND });
    console.log(`playback seek: recorded ${recorded.toFixed(2)} s (wall clock), the file holds ${held.toFixed(2)} s, page duration ${seen.duration.toFixed(3)} s, clock at 0 ${seen.start} s, at ${seen.currentTime.toFixed(2)} s ${seen.middle} s`);
    expect(Number.isFinite(seen.duration)).toBe(true);
    expect(Math.abs(seen.duration - held)).toBeLessThan(0.3);
    expect(seen.atStart).toBe(true);
    expect(seen.atMiddle).toBe(true);
    expect(Math.abs(seen.currentTime - seen.duration / 2)).toBeLessThan(0.05);
    // The frame shown was recorded duration/2 after the first one (the bar wraps every 16 s).
    const elapsed = (seen.middle - seen.start + BAR_PERIOD_S) % BAR_PERIOD_S;
    expect(Math.abs(elapsed - seen.duration / 2)).toBeLessThan(0.25);
    errors.expectNone();
  }, 120_000);
});
