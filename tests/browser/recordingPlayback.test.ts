// A long recording is seekable everywhere: an instructor in real Chromium records their camera
// for ~12 s with `recording.keyframeIntervalSeconds: 3`. Chromium's encoder sends a keyframe only
// when asked (its own interval is thousands of frames), so without the recorder's periodic
// requests the seek index would have one Cue at the start; with them, Cues are at most ~3 s apart.
// Then the playback page: the instructor has an Export button (through the page's signed link) that
// downloads the recording as one seekable file; a student of the room, who may play it, has none.
// Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import ebml from 'ts-ebml';
import { browserLecternPerFile } from '../helpers/browserLectern.js';

const ROOM = 'keyframe-room';
const SLOW = { timeout: 30_000 };
const RECORD_MS = 12_000;
const KEYFRAME_INTERVAL_S = 3;

const fixture = browserLecternPerFile({
  auth: { tokenSecret: 'browser-keyframes-secret-at-least-32b!' },
  recording: { keyframeIntervalSeconds: KEYFRAME_INTERVAL_S, studentPlayback: true },
});
const { errors } = fixture;

const token = (role: 'instructor' | 'student', subject: string): Promise<string> => fixture.token(ROOM, role, subject);
const open = (url: string, label: string): Promise<Page> => fixture.open(url, label);

/** The CueTimes (ms) of a seekable WebM: the seek points a player has. */
function cueTimesMs(file: Buffer): number[] {
  const decoder = new ebml.Decoder();
  let scale = 1_000_000;
  const times: number[] = [];
  for (const element of decoder.decode(new Uint8Array(file).buffer)) {
    if (!('value' in element) || typeof element.value !== 'number') continue;
    if (element.name === 'TimestampScale') scale = element.value;
    if (element.name === 'CueTime') times.push((element.value * scale) / 1_000_000);
  }
  return times;
}

describe('a long recording in the browser', () => {
  let recordingId: string;

  it('an instructor\'s camera recorded ~12 s with a 3 s keyframe interval has a Cue at least every ~3 s', async () => {
    const teacher = await open(`${fixture.lectern.url}/r/${ROOM}#token=${await token('instructor', 'teacher@uni')}`, 'teacher');
    await teacher.getByLabel('Your name').fill('Teacher');
    await teacher.getByRole('button', { name: 'Join' }).click();
    await teacher.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await teacher.getByRole('button', { name: 'Start recording', exact: true }).click();
    await expect.poll(() => teacher.locator('#recording-banner').isVisible(), SLOW).toBe(true);
    const [listed] = (await fixture.lectern.recordings.list()).filter((r) => r.room === ROOM);
    recordingId = listed!.id;
    await expect.poll(async () => (await fixture.lectern.recordings.info(recordingId)).manifest.segments.some((s) => s.source === 'camera'), SLOW).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, RECORD_MS));
    await teacher.getByRole('button', { name: 'Stop recording', exact: true }).click();
    await expect.poll(() => teacher.locator('#recording-banner').isVisible(), SLOW).toBe(false);
    await fixture.lectern.recordings.settled(recordingId);

    const camera = (await fixture.lectern.recordings.info(recordingId)).manifest.segments.filter((s) => s.source === 'camera');
    expect(camera).toHaveLength(1);
    expect(camera[0]!.seek, camera[0]!.seekError).toBeDefined();
    const { stream } = await fixture.lectern.recordings.store.openPlayback(recordingId, camera[0]!.segmentId);
    const cues = cueTimesMs(await buffer(stream));
    const durationMs = camera[0]!.seek!.durationMs;
    const gaps = cues.slice(1).map((time, i) => time - cues[i]!);
    console.log(`keyframes: ${cues.length} cues over ${(durationMs / 1000).toFixed(2)} s at ${cues.map((t) => (t / 1000).toFixed(2)).join(', ')} s; ${camera[0]!.end?.keyFrameRequests} keyframe requests`);
    expect(durationMs).toBeGreaterThan(RECORD_MS - 2000);
    expect(cues[0]).toBe(0);
    // From the first Cue to the last, and from the last to the end: never more than the interval
    // plus the sender's answer time (a PLI's round trip and an encoded frame on a loaded machine).
    for (const gap of [...gaps, durationMs - cues.at(-1)!]) expect(gap).toBeLessThanOrEqual(KEYFRAME_INTERVAL_S * 1000 + 500);
    errors.expectNone();
  }, 120_000);

  it('the playback page has an Export button for the instructor (it downloads the seekable file), none for a student', async () => {
    const instructor = await open(`${fixture.lectern.url}/play/${recordingId}#token=${encodeURIComponent(await token('instructor', 'teacher@uni'))}`, 'playback (instructor)');
    await instructor.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    const button = instructor.getByRole('link', { name: 'Export as one file' });
    expect(await button.count()).toBe(1);
    const [download] = await Promise.all([instructor.waitForEvent('download', { timeout: 60_000 }), button.click()]);
    const file = join(mkdtempSync(join(tmpdir(), 'lectern-export-download-')), download.suggestedFilename());
    await download.saveAs(file);
    expect(download.suggestedFilename()).toBe(`recording-${recordingId}.mkv`);
    const probed = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type', '-of', 'json', file]).toString()) as { format: { duration?: string }; streams: { codec_type: string }[] };
    console.log(`export button: ${download.suggestedFilename()} ${probed.streams.map((s) => s.codec_type).join('+')}, ${probed.format.duration} s`);
    expect(probed.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(Number(probed.format.duration)).toBeGreaterThan(RECORD_MS / 1000 - 2);

    // A student of the room may play it here (the server allows it), but not export: no button.
    const student = await open(`${fixture.lectern.url}/play/${recordingId}#token=${encodeURIComponent(await token('student', 'ann@uni'))}`, 'playback (student)');
    await student.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    expect(await student.locator('#play-events li').count()).toBeGreaterThan(2);
    expect(await student.locator('#play-export').count()).toBe(0);
    expect(await student.getByRole('link', { name: 'Export as one file' }).count()).toBe(0);
    errors.expectNone();
  }, 120_000);
});
