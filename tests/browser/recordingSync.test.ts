// A/V alignment from RTCP sender reports with a real browser's simulcast camera (the server-side
// test, tests/server/recordingSync.test.ts, uses ffmpeg's single-SSRC streams). Chromium publishes
// through the Lectern client, whose camera is three simulcast layers, media that says what time it
// is: getUserMedia is replaced (before the page loads) by a canvas whose white bar is the wall
// clock mod 16 s (20 px/s at 320 px, as tests/helpers/rtpSender.ts draws it) and a Web Audio tone
// that beeps at every even second of the same clock, 100 ms * (1 + k mod 4) long. The instructor
// records with the camera stopped and starts it ~2.5 s later. The true offset between the two
// recorded files is read off the files (the bar against each frame's time, the beeps); the offset the
// playback API gives from the sender reports (the recorder's consumer forwards one of the
// producer's three streams: its reports must be the ones that map the RTP timestamps) is within
// 100 ms of it. Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { mediasoupProducer } from '../helpers/mediasoupLookup.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { BAR_PERIOD_S, BEEP_PERIOD_S } from '../helpers/rtpSender.js';
import { barSeconds, beeps, withStdin } from '../helpers/clockMedia.js';
import { segmentStarts } from '../../server/recording/trackAlignment.js';
import type { StoredSegment } from '../../server/recording/RecordingStore.js';
import { EVENTS_TRACK } from '../../server/recording/EventsFile.js';

const ROOM = 'sync-room';
const SLOW = { timeout: 30_000 };
const CAMERA_LATE_MS = 2500;

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const errors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh').toEqual([]);
  lectern = await startLectern({ auth: { tokenSecret: 'browser-sync-secret-at-least-32-bytes!!' } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await lectern?.close();
});

/** Replaces getUserMedia in the page: a camera and a microphone whose content is the wall clock. */
function clockMedia({ barPeriod, beepPeriod }: { barPeriod: number; beepPeriod: number }): void {
  const wall = (): number => (performance.timeOrigin + performance.now()) / 1000;
  navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints): Promise<MediaStream> => {
    const stream = new MediaStream();
    if (constraints?.video) {
      const canvas = document.createElement('canvas');
      canvas.width = 960;
      canvas.height = 540;
      const context2d = canvas.getContext('2d')!;
      const draw = (): void => {
        context2d.fillStyle = 'black';
        context2d.fillRect(0, 0, canvas.width, canvas.height);
        context2d.fillStyle = 'white';
        context2d.fillRect(0, 0, (canvas.width * (wall() % barPeriod)) / barPeriod, canvas.height);
      };
      draw();
      setInterval(draw, 1000 / 30);
      for (const track of canvas.captureStream(30).getVideoTracks()) stream.addTrack(track);
    }
    if (constraints?.audio) {
      const audio = new AudioContext({ sampleRate: 48_000 });
      await audio.resume();
      const tone = audio.createOscillator();
      tone.frequency.value = 1000;
      const gate = audio.createGain();
      gate.gain.value = 0;
      const out = audio.createMediaStreamDestination();
      tone.connect(gate).connect(out);
      tone.start();
      // Beep k starts at wall time k * beepPeriod s, lasting 100 ms * (1 + k mod 4): scheduled on
      // the audio clock through the one instant both clocks are read at.
      const { contextTime = audio.currentTime, performanceTime = performance.now() } = audio.getOutputTimestamp();
      const toAudio = (wallSeconds: number): number => contextTime + (wallSeconds - (performance.timeOrigin + performanceTime) / 1000);
      const first = Math.ceil(wall() / beepPeriod) + 1;
      for (let k = first; k < first + 60; k++) {
        const at = toAudio(k * beepPeriod);
        gate.gain.setValueAtTime(0.5, at);
        gate.gain.setValueAtTime(0, at + 0.1 * (1 + (k % 4)));
      }
      for (const track of out.stream.getAudioTracks()) stream.addTrack(track);
    }
    return stream;
  };
}

/**
 * The wall clock (mod the bar's period) at the video file's time 0, read off its frames from 1 s
 * on: the first frames after the camera was started again can still be the black ones a stopped
 * track sends (the client re-enables it after the server resumed it), which read as clock 0.
 * Each frame's bar minus its file time is the same instant; the median of those is the answer.
 */
async function clockAtFileStart(bytes: Buffer): Promise<number> {
  const { stdout, stderr } = await withStdin('ffmpeg', ['-v', 'info', '-nostats', '-i', 'pipe:0', '-vf', 'showinfo,scale=320:1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], bytes);
  const times = [...stderr.matchAll(/pts_time:\s*(-?[0-9.]+)/g)].map((m) => Number(m[1]));
  const starts = times
    .map((t, i) => ({ at: t - times[0]!, clock: barSeconds(stdout.subarray(i * 320, (i + 1) * 320)) }))
    .filter((f) => f.at >= 1)
    .map((f) => (((f.clock - f.at) % BAR_PERIOD_S) + BAR_PERIOD_S) % BAR_PERIOD_S)
    .sort((a, b) => a - b);
  if (starts.length === 0) throw new Error('no frame 1 s into the video');
  return starts[Math.floor(starts.length / 2)]!;
}

describe('A/V alignment with a browser\'s simulcast camera', () => {
  it('the camera, started 2.5 s after the microphone, is placed by its capture time (within 100 ms of the truth)', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
    contexts.push(context);
    await context.addInitScript(clockMedia, { barPeriod: BAR_PERIOD_S, beepPeriod: BEEP_PERIOD_S });
    const page = errors.watch(await context.newPage(), 'instructor');
    const token = await lectern.authenticator.issueRoomToken({ room: ROOM, role: 'instructor', subject: 'teacher@uni' });
    await page.goto(`${lectern.url}/r/${ROOM}#token=${token}`);
    await page.getByLabel('Your name').fill('Teacher');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByRole('button', { name: 'Stop camera' }).click();
    await expect.poll(() => page.locator('#toggle-camera').getAttribute('aria-pressed'), SLOW).toBe('true');

    await page.getByRole('button', { name: 'Start recording', exact: true }).click();
    await expect.poll(() => page.locator('#recording-banner').isVisible(), SLOW).toBe(true);
    const [listed] = (await lectern.recordings.list()).filter((r) => r.room === ROOM);
    const id = listed!.id;
    const segmentsOf = async () => (await lectern.recordings.info(id)).manifest.segments;
    await expect.poll(async () => (await segmentsOf()).some((s) => s.source === 'microphone'), SLOW).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, CAMERA_LATE_MS));
    await page.getByRole('button', { name: 'Start camera' }).click();
    await expect.poll(async () => (await segmentsOf()).some((s) => s.source === 'camera'), SLOW).toBe(true);
    // The camera is the client's simulcast: three streams, each with its own SSRC and sender reports.
    const camera = mediasoupProducer((await segmentsOf()).find((s) => s.source === 'camera')!.producerId)!;
    expect(camera.type).toBe('simulcast');
    expect(camera.rtpParameters.encodings).toHaveLength(3);
    // A browser's layers are known by RID; their SSRCs are what the worker has received.
    let cameraSsrcs: number[] = [];
    await expect.poll(async () => (cameraSsrcs = (await camera.getStats()).map((stat) => stat.ssrc)).length, SLOW).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await page.getByRole('button', { name: 'Stop recording', exact: true }).click();
    await lectern.recordings.settled(id);

    const info = await lectern.recordings.info(id);
    const segments = info.manifest.segments.filter((s) => s.trackId !== EVENTS_TRACK);
    const audio = segments.find((s) => s.source === 'microphone')!;
    const video = segments.find((s) => s.source === 'camera')!;
    expect(segments.map((s) => s.source).sort()).toEqual(['camera', 'microphone']);
    expect(audio.capture).toBeDefined();
    expect(video.capture).toBeDefined();

    const bytes = async (s: StoredSegment) => Buffer.concat(await (await lectern.recordings.store.openSegment(id, s.segmentId)).stream.toArray());
    const videoStart = await clockAtFileStart(await bytes(video));
    const beep = (await beeps(await bytes(audio))).find((b) => b.at > 0.05 && b.index >= 0 && b.index <= 3);
    expect(beep).toBeDefined();
    const arrival = (video.startedAt - audio.startedAt) / 1000;
    // As in the server-side test: the audio file starts at 2k - at for the beep's k (mod 4), the
    // one nearest what the arrival times suggest.
    const guess = videoStart - arrival;
    const cycle = 4 * BEEP_PERIOD_S;
    const first = BEEP_PERIOD_S * beep!.index - beep!.at;
    const audioStart = first + cycle * Math.round((guess - first) / cycle);
    const truth = videoStart - audioStart;

    const starts = segmentStarts(segments, info.startedAt);
    const aligned = (starts.get(video.segmentId)!.offsetMs - starts.get(audio.segmentId)!.offsetMs) / 1000;
    console.log(`A/V alignment (Chromium simulcast): true offset ${truth.toFixed(3)} s, from sender reports ${aligned.toFixed(3)} s (error ${((aligned - truth) * 1000).toFixed(0)} ms), by arrival ${arrival.toFixed(3)} s (error ${((arrival - truth) * 1000).toFixed(0)} ms); camera capture SSRC ${video.capture?.ssrc}; beep ${beep!.index} at ${beep!.at.toFixed(3)} s`);
    expect(starts.get(audio.segmentId)!.clock).toBe('sender');
    expect(starts.get(video.segmentId)!.clock).toBe('sender');
    // The mapping came from one of the camera's own streams' reports.
    expect(cameraSsrcs).toContain(video.capture!.ssrc);
    expect(truth).toBeGreaterThan(1.5);
    expect(Math.abs(aligned - truth)).toBeLessThan(0.1);
    errors.expectNone();
  }, 120_000);
});
