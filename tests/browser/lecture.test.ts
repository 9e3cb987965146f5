// The loudest speakers in real Chromium: with rooms.forwardedSpeakers = 2 and three unmuted
// speakers at different volumes, a listener receives exactly two growing audio streams (the two
// loudest); when one of them mutes, the quiet one comes through. Each speaker is its own Chromium
// (the fake microphone file is a browser-wide flag), playing a WAV made here with ffmpeg.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';

let lectern: TestLectern;
const browsers: Browser[] = [];
const pageErrors = new PageErrors();
const dir = mkdtempSync(join(tmpdir(), 'lectern-lecture-'));

/** A 20 s, 300 Hz tone with a syllable-like 3 Hz tremolo at `gain`, as Chromium's fake microphone plays it. */
function voice(name: string, gain: number): string {
  const file = join(dir, `${name}.wav`);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=300:duration=20', '-af', `tremolo=f=3:d=0.7,volume=${gain}`, '-ar', '48000', '-ac', '1', file]);
  return file;
}

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  lectern = await startLectern({ rooms: { forwardedSpeakers: 2 } });
}, 60_000);

afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  for (const browser of browsers) await browser.close();
  await lectern?.close();
});

/**
 * Join in a fresh Chromium (or `browser`); microphone on with an audio file (or `microphone`),
 * camera only when asked. The page's audio
 * processing is turned off: automatic gain control would level the test tones out (and noise
 * suppression flatten them), where real voices in a room differ anyway.
 */
async function joinAs(name: string, room: string, options: { audioFile?: string; browser?: Browser; token?: string; camera?: boolean; microphone?: boolean }): Promise<Page> {
  let browser = options.browser;
  if (!browser) {
    browser = await launchChromium(options.audioFile ? [`--use-file-for-fake-audio-capture=${options.audioFile}`] : []);
    browsers.push(browser);
  }
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  await context.addInitScript(() => {
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (constraints) =>
      original(constraints?.audio ? { ...constraints, audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } } : constraints);
  });
  const page = pageErrors.watch(await context.newPage(), name);
  await page.goto(`${lectern.url}/r/${room}${options.token ? `#token=${options.token}` : ''}`);
  await page.getByLabel('Your name').fill(name);
  if (!options.camera) await page.getByLabel('Camera').uncheck();
  if (!options.audioFile && !options.microphone) await page.getByLabel('Microphone').uncheck();
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible' });
  return page;
}

/** Audio packets the listener's tile of each speaker has received. */
async function audioPackets(listener: Page, names: string[]): Promise<number[]> {
  return Promise.all(names.map((name) => listener.locator(`.tile[aria-label="${name}"]`).evaluate((el: HTMLElement) => Number(el.dataset.audioPackets ?? 0))));
}

let lastDeltas: Record<string, number> = {};

/** Which speakers' audio grew at the listener over `ms`. */
async function growing(listener: Page, names: string[], ms: number): Promise<string[]> {
  const before = await audioPackets(listener, names);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await audioPackets(listener, names);
  lastDeltas = Object.fromEntries(names.map((name, i) => [name, after[i]! - before[i]!]));
  // The tile reads stats every second: more than a few packets is media, not a last one in flight.
  return names.filter((_, i) => after[i]! - before[i]! > 20);
}

describe('loudest speakers in the browser', () => {
  it('with M = 2 and three unmuted speakers a listener receives exactly the two loudest; a mute lets the quiet one through', async () => {
    const room = 'lecture-loudest';
    const names = ['Loud', 'Middle', 'Quiet'];
    // Quiet joins first: levels, not order, must decide.
    await joinAs('Quiet', room, { audioFile: voice('quiet', 0.004) });
    const loud = await joinAs('Loud', room, { audioFile: voice('loud', 0.5) });
    await joinAs('Middle', room, { audioFile: voice('middle', 0.08) });
    const listener = await joinAs('Listener', room, { browser: browsers[0]! });

    await expect
      .poll(() => growing(listener, names, 3000), { timeout: 40_000, interval: 1000 })
      .toEqual(['Loud', 'Middle']);
    // Stays so: the set does not flap.
    expect(await growing(listener, names, 4000)).toEqual(['Loud', 'Middle']);
    console.log('audio packets at the listener in 4 s, before the mute:', JSON.stringify(lastDeltas));

    await loud.getByRole('button', { name: 'Mute mic' }).click();
    await expect
      .poll(() => growing(listener, names, 3000), { timeout: 30_000, interval: 1000 })
      .toEqual(['Middle', 'Quiet']);
    console.log('audio packets at the listener in 3 s, after Loud muted:', JSON.stringify(lastDeltas));
  }, 150_000);

  it('a student joining a lecture opens no camera and is held muted until the instructor ends lecture mode', async () => {
    const room = 'lecture-join';
    const browser = browsers[0]!;
    const token = await lectern.authenticator.issueRoomToken({ room, role: 'instructor', subject: 'teacher@uni' });
    const teacher = await joinAs('Teacher', room, { browser, token });
    const toggle = teacher.getByRole('button', { name: 'Lecture mode' });
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => teacher.locator('#toggle-lecture').textContent()).toBe('End lecture mode');

    // A guest student who asked for camera and microphone.
    const student = await joinAs('Student', room, { browser, microphone: true, camera: true });
    await expect.poll(() => student.locator('#status').textContent(), { timeout: 20_000 }).toContain('muted');
    await expect.poll(() => student.locator('#toggle-mic').getAttribute('aria-pressed'), { timeout: 20_000 }).toBe('true');
    expect(await student.locator('#toggle-camera').isDisabled()).toBe(true);
    expect(await student.locator('body').getAttribute('data-lecture-mode')).toBe('true');
    await student.getByRole('button', { name: 'Unmute mic' }).click();
    await expect.poll(() => student.locator('#status').textContent()).toContain('raise your hand');

    await teacher.locator('#toggle-lecture').click();
    await expect.poll(() => student.locator('#status').textContent(), { timeout: 10_000 }).toMatch(/unmute again|Lecture mode is off/);
    await student.getByRole('button', { name: 'Unmute mic' }).click();
    await expect.poll(() => student.locator('#toggle-mic').getAttribute('aria-pressed')).toBe('false');
  }, 90_000);
});
