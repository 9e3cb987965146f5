// A/V alignment from RTCP sender reports with a real browser's simulcast camera (the server-side
// test, tests/server/recordingSync.test.ts, uses ffmpeg's single-SSRC streams). Chromium publishes
// through the Lectern client, whose camera is three simulcast layers. getUserMedia is replaced
// (before the page loads) by media that says what time it is, absolutely, so the truth needs no
// guessing modulo a period:
// - the camera is a canvas whose top half is a binary code of the whole seconds since the test's
//   epoch (a white sync block, then 15 bits) and whose bottom half is a white bar as wide as the
//   fraction of that second;
// - the microphone beeps at every whole second s since the epoch, at 400 + 40 * (s mod 100) Hz,
//   so each beep's pitch says which second it is.
// Each picture is read with its own file time: ffmpeg's raw output keeps the frames as they are
// (-fps_mode passthrough); at its default constant rate it repeats a frame over a gap in the file
// (as at the start of the camera's file) and every later picture is then paired with another
// frame's time, which read as a true offset seconds off.
// The instructor records with the camera stopped and starts it 2.5 s later. The true offset
// between the two recorded files is read off them (every decodable frame's clock minus its file
// time; every beep's second minus its file time); the offset the playback API gives from the
// sender reports (the recorder's consumer forwards one of the producer's three streams: its reports
// must be the ones that map the RTP timestamps) is within 100 ms of it.
// Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { describe, expect, it } from 'vitest';
import { browserLecternPerFile } from '../helpers/browserLectern.js';
import { mediasoupProducer, mediasoupProducers } from '../helpers/mediasoupLookup.js';
import { withStdin } from '../helpers/clockMedia.js';
import { segmentStarts } from '../../server/recording/trackAlignment.js';
import type { StoredSegment } from '../../server/recording/RecordingStore.js';
import { EVENTS_TRACK } from '../../server/recording/EventsFile.js';

const ROOM = 'sync-room';
const SLOW = { timeout: 30_000 };
const CAMERA_LATE_MS = 2500;
const BITS = 15;
const BASE_HZ = 400;
const STEP_HZ = 40;
const PITCHES = 100;
const BEEP_S = 0.15;

const fixture = browserLecternPerFile({ auth: { tokenSecret: 'browser-sync-secret-at-least-32-bytes!!' } });
const { errors } = fixture;

interface ClockOptions {
  epochMs: number;
  bits: number;
  baseHz: number;
  stepHz: number;
  pitches: number;
  beepSeconds: number;
}

/**
 * Replaces getUserMedia in the page: a camera and a microphone whose content is the wall clock
 * (seconds since `epochMs`). Runs in the page, so it is self-contained. The audio clock is mapped
 * to the wall clock where the page's audio is rendered (and so handed to WebRTC): `currentTime`
 * moves in render quanta, and the least wall-minus-currentTime over a few hundred reads is the
 * read just after a quantum was rendered.
 */
function clockMedia(options: ClockOptions): void {
  const { epochMs, bits, baseHz, stepHz, pitches, beepSeconds } = options;
  const wall = (): number => (performance.timeOrigin + performance.now() - epochMs) / 1000;
  // The init script runs in every document of the context, some without media devices (not a secure context).
  if (!navigator.mediaDevices) return;
  const record: Record<string, unknown> = {};
  (window as unknown as { clockMedia: unknown }).clockMedia = record;
  navigator.mediaDevices.getUserMedia = async (constraints?: MediaStreamConstraints): Promise<MediaStream> => {
    const stream = new MediaStream();
    if (constraints?.video) {
      const canvas = document.createElement('canvas');
      canvas.width = 960;
      canvas.height = 540;
      const context2d = canvas.getContext('2d')!;
      const block = canvas.width / (bits + 1);
      const draw = (): void => {
        const now = wall();
        const seconds = Math.floor(now);
        context2d.fillStyle = 'black';
        context2d.fillRect(0, 0, canvas.width, canvas.height);
        context2d.fillStyle = 'white';
        context2d.fillRect(0, 0, block, canvas.height / 2);
        for (let bit = 0; bit < bits; bit++) {
          if ((seconds >> (bits - 1 - bit)) & 1) context2d.fillRect(block * (bit + 1), 0, block, canvas.height / 2);
        }
        context2d.fillRect(0, canvas.height / 2, canvas.width * (now - seconds), canvas.height / 2);
      };
      // A frame is taken when it is drawn (not at the capturer's own ticks, up to a frame later),
      // so the clock in each picture is its capture time.
      const [track] = canvas.captureStream(0).getVideoTracks() as CanvasCaptureMediaStreamTrack[];
      const tick = (): void => {
        draw();
        track!.requestFrame();
      };
      tick();
      setInterval(tick, 1000 / 30);
      stream.addTrack(track!);
    }
    if (constraints?.audio) {
      const audio = new AudioContext({ sampleRate: 48_000 });
      await audio.resume();
      while (audio.currentTime === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      let offset = Number.POSITIVE_INFINITY;
      const until = performance.now() + 300;
      while (performance.now() < until) {
        offset = Math.min(offset, wall() - audio.currentTime);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      const output = audio.getOutputTimestamp();
      const outputOffset = (performance.timeOrigin + (output.performanceTime ?? 0) - epochMs) / 1000 - (output.contextTime ?? 0);
      record.audio = { offset, outputOffset, outputLatency: audio.outputLatency, baseLatency: audio.baseLatency, at: wall(), currentTime: audio.currentTime };
      const out = audio.createMediaStreamDestination();
      const first = Math.ceil(wall()) + 1;
      for (let s = first; s < first + 120; s++) {
        const tone = audio.createOscillator();
        tone.frequency.value = baseHz + stepHz * (s % pitches);
        const gain = audio.createGain();
        gain.gain.value = 0.5;
        tone.connect(gain).connect(out);
        tone.start(s - offset);
        tone.stop(s - offset + beepSeconds);
      }
      for (const track of out.stream.getAudioTracks()) stream.addTrack(track);
    }
    return stream;
  };
}

/** File time (s) of every decoded video frame and the clock drawn in it (undefined: not a clock picture, e.g. black). */
async function videoClocks(bytes: Buffer): Promise<{ at: number; clock: number | undefined }[]> {
  const { stdout, stderr } = await withStdin('ffmpeg', ['-v', 'info', '-nostats', '-i', 'pipe:0', '-vf', 'showinfo,scale=320:2:flags=area', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], bytes);
  const times = [...stderr.matchAll(/pts_time:\s*(-?[0-9.]+)/g)].map((m) => Number(m[1]));
  const width = 320;
  if (stdout.length !== times.length * 2 * width) throw new Error(`${stdout.length / (2 * width)} pictures for ${times.length} frames`);
  const block = width / (BITS + 1);
  return times.map((at, i) => {
    const code = stdout.subarray(i * 2 * width, i * 2 * width + width);
    const bar = stdout.subarray(i * 2 * width + width, (i + 1) * 2 * width);
    const levels = Array.from({ length: BITS + 1 }, (_, b) => code[Math.floor(block * b + block / 2)]!);
    // A clean picture: every block clearly black or white, the sync block white, one edge in the bar.
    if (levels.some((v) => v > 64 && v < 192) || levels[0]! < 192) return { at, clock: undefined };
    let edges = 0;
    let white = 0;
    for (let x = 0; x < width; x++) {
      if (bar[x]! > 128) white++;
      if (x > 0 && bar[x]! > 128 !== bar[x - 1]! > 128) edges++;
    }
    if (edges > 1) return { at, clock: undefined };
    const seconds = levels.slice(1).reduce((n, v) => n * 2 + (v >= 192 ? 1 : 0), 0);
    return { at, clock: seconds + white / width };
  });
}

/** File time (s) of every beep of a recorded audio file and the second (since the epoch) its pitch names. */
async function audioBeeps(bytes: Buffer, near: number): Promise<{ at: number; second: number; hz: number }[]> {
  const { stdout: probed } = await withStdin('ffprobe', ['-v', 'error', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', '-i', 'pipe:0'], bytes);
  const start = Number(probed.toString().trim()) || 0;
  const rate = 48_000;
  const { stdout } = await withStdin('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-ac', '1', '-ar', String(rate), '-f', 's16le', 'pipe:1'], bytes);
  const samples = new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 2));
  const found: { at: number; second: number; hz: number }[] = [];
  let quiet = 0;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) < 600) {
      quiet++;
      continue;
    }
    // An onset: loud after at least 50 ms of quiet, with the whole beep in the file.
    const onset = quiet >= 0.05 * rate && i + BEEP_S * rate < samples.length;
    quiet = 0;
    if (!onset) continue;
    let crossings = 0;
    const from = i + Math.round(0.02 * rate);
    const to = i + Math.round(0.12 * rate);
    for (let j = from + 1; j < to; j++) if ((samples[j - 1]! < 0) !== (samples[j]! < 0)) crossings++;
    const hz = crossings / 2 / ((to - from) / rate);
    const pitch = Math.round((hz - BASE_HZ) / STEP_HZ);
    // Which second of the epoch has this pitch: the one within PITCHES / 2 s of `near` (the
    // recording's rough clock, from the video); PITCHES s apart, so there is only one.
    const second = near + ((((pitch - near) % PITCHES) + PITCHES + PITCHES / 2) % PITCHES) - PITCHES / 2;
    found.push({ at: start + i / rate, second, hz });
    i += Math.round(BEEP_S * rate);
  }
  return found;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('A/V alignment with a browser\'s simulcast camera', () => {
  it('the camera, started 2.5 s after the microphone, is placed by its capture time (within 100 ms of the truth)', async () => {
    const { lectern } = fixture;
    const epochMs = Date.now() - 10_000;
    const context = await fixture.context('instructor');
    await context.addInitScript(clockMedia, { epochMs, bits: BITS, baseHz: BASE_HZ, stepHz: STEP_HZ, pitches: PITCHES, beepSeconds: BEEP_S });
    const page = await context.newPage();
    await page.goto(`${lectern.url}/r/${ROOM}#token=${await fixture.token(ROOM, 'instructor', 'teacher@uni')}`);
    await page.getByLabel('Your name').fill('Teacher');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    // The camera's button is on the page before the client has published and wired it (a click
    // then is lost): the camera's packets reaching the worker mean it is published and wired.
    await expect
      .poll(async () => (await Promise.all(mediasoupProducers().filter((p) => p.kind === 'video').map((p) => p.getStats()))).flat().length, { ...SLOW, message: 'camera sending' })
      .toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Stop camera' }).click();
    await expect.poll(() => page.locator('#toggle-camera').getAttribute('aria-pressed'), { ...SLOW, message: 'camera stopped' }).toBe('true');

    const recordClicked = Date.now();
    await page.getByRole('button', { name: 'Start recording', exact: true }).click();
    await expect.poll(() => page.locator('#recording-banner').isVisible(), { ...SLOW, message: 'recording banner' }).toBe(true);
    const [listed] = (await lectern.recordings.list()).filter((r) => r.room === ROOM);
    const id = listed!.id;
    const segmentsOf = async () => (await lectern.recordings.info(id)).manifest.segments;
    await expect.poll(async () => (await segmentsOf()).some((s) => s.source === 'microphone'), { ...SLOW, message: 'microphone segment' }).toBe(true);
    const microphoneListed = Date.now();
    await new Promise((resolve) => setTimeout(resolve, CAMERA_LATE_MS));
    const cameraClicked = Date.now();
    await page.getByRole('button', { name: 'Start camera' }).click();
    await expect.poll(async () => (await segmentsOf()).some((s) => s.source === 'camera'), { ...SLOW, message: 'camera segment' }).toBe(true);
    const cameraListed = Date.now();
    // The camera is the client's simulcast: three streams, each with its own SSRC and sender reports.
    const camera = mediasoupProducer((await segmentsOf()).find((s) => s.source === 'camera')!.producerId)!;
    expect(camera.type).toBe('simulcast');
    expect(camera.rtpParameters.encodings).toHaveLength(3);
    // A browser's layers are known by RID; their SSRCs are what the worker has received.
    let cameraSsrcs: number[] = [];
    await expect.poll(async () => (cameraSsrcs = (await camera.getStats()).map((stat) => stat.ssrc)).length, { ...SLOW, message: 'camera SSRCs' }).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await page.getByRole('button', { name: 'Stop recording', exact: true }).click();
    await lectern.recordings.settled(id);
    const pageClock = await page.evaluate(() => (window as unknown as { clockMedia: unknown }).clockMedia);

    const info = await lectern.recordings.info(id);
    const segments = info.manifest.segments.filter((s) => s.trackId !== EVENTS_TRACK);
    const audio = segments.find((s) => s.source === 'microphone')!;
    const video = segments.find((s) => s.source === 'camera')!;
    expect(segments.map((s) => s.source).sort()).toEqual(['camera', 'microphone']);
    expect(audio.capture).toBeDefined();
    expect(video.capture).toBeDefined();

    const bytes = async (s: StoredSegment) => Buffer.concat(await (await lectern.recordings.store.openSegment(id, s.segmentId)).stream.toArray());
    const frames = await videoClocks(await bytes(video));
    const clean = frames.filter((f) => f.clock !== undefined);
    // Most pictures carry the clock (black ones sent while the camera was stopped do not).
    expect(clean.length).toBeGreaterThan(frames.length / 2);
    const videoStart = median(clean.map((f) => f.clock! - f.at));
    const videoSpread = Math.max(...clean.map((f) => Math.abs(f.clock! - f.at - videoStart)).sort((a, b) => a - b).slice(0, Math.ceil(clean.length * 0.9)));
    // A live picture: every frame's clock less its file time is the same instant (a frozen picture,
    // repeated by the encoder, drifts by the file time and gives no truth at all).
    if (videoSpread >= 0.05) console.log('FRAMES ' + clean.map((f) => `${f.at.toFixed(3)}:${(f.clock! - f.at - videoStart).toFixed(3)}`).join(' '));
    expect(videoSpread, 'the pictures\' clock follows their file time').toBeLessThan(0.05);
    const beeps = await audioBeeps(await bytes(audio), Math.round(videoStart));
    expect(beeps.length).toBeGreaterThanOrEqual(5);
    const audioStart = median(beeps.map((b) => b.second - b.at));
    // Every beep names its own second: they all agree on where the file starts.
    for (const b of beeps) expect(Math.abs(b.second - b.at - audioStart), `beep at ${b.at} s (${b.hz} Hz)`).toBeLessThan(0.05);
    const truth = videoStart - audioStart;
    const pageAhead = await page.evaluate(() => performance.timeOrigin + performance.now() - Date.now());
    const wallOf = (seconds: number): number => epochMs + seconds * 1000 - pageAhead;

    const arrival = (video.startedAt - audio.startedAt) / 1000;
    const starts = segmentStarts(segments, info.startedAt);
    const aligned = (starts.get(video.segmentId)!.offsetMs - starts.get(audio.segmentId)!.offsetMs) / 1000;
    console.log(
      `A/V alignment (Chromium simulcast): true offset ${truth.toFixed(3)} s, from sender reports ${aligned.toFixed(3)} s (error ${((aligned - truth) * 1000).toFixed(0)} ms), ` +
        `by arrival ${arrival.toFixed(3)} s (error ${((arrival - truth) * 1000).toFixed(0)} ms); camera capture SSRC ${video.capture?.ssrc} of ${cameraSsrcs.join(',')}; ` +
        `video: ${clean.length}/${frames.length} clock frames from ${frames[0]?.at} s, 90 % within ${(videoSpread * 1000).toFixed(0)} ms; ` +
        `clicks vs file starts: audio ${(wallOf(audioStart) - recordClicked).toFixed(0)} ms after its click, video ${(wallOf(videoStart) - cameraClicked).toFixed(0)} ms after its, listed ${microphoneListed - recordClicked} and ${cameraListed - cameraClicked} ms after; ` +
        `by the product: audio captured ${(info.startedAt + starts.get(audio.segmentId)!.offsetMs - recordClicked).toFixed(0)} ms after its click; page clock ahead by ${pageAhead.toFixed(1)} ms; ` +
        `audio: ${beeps.length} beeps (${beeps.map((b) => `${b.second}@${b.at.toFixed(3)}`).join(' ')}); page ${JSON.stringify(pageClock)}`,
    );
    expect(starts.get(audio.segmentId)!.clock).toBe('sender');
    expect(starts.get(video.segmentId)!.clock).toBe('sender');
    // The mapping came from one of the camera's own streams' reports.
    expect(cameraSsrcs).toContain(video.capture!.ssrc);
    // The truth is absolute, so it can be checked against this process's clock (the same host's,
    // read through the page's own clock): each file's first sample was captured about when its
    // button was clicked and before the server listed its segment, give or take the page's
    // pipeline (frames in flight when the worker resumed a track, the audio render buffer). A
    // truth a whole second or period off, as the modular one was, cannot pass.
    expect(wallOf(audioStart)).toBeGreaterThan(recordClicked - 500);
    expect(wallOf(audioStart)).toBeLessThan(microphoneListed + 500);
    expect(wallOf(videoStart)).toBeGreaterThan(cameraClicked - 500);
    expect(wallOf(videoStart)).toBeLessThan(cameraListed + 500);
    expect(Math.abs(aligned - truth)).toBeLessThan(0.1);
    errors.expectNone();
  }, 120_000);
});
