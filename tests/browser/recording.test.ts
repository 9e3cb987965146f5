// A class of three in real Chromium recorded for ~15 s through the page's own controls: the
// instructor starts, one student consents in the notice, one declines. The decrypted per-track files
// pass ffprobe (video frames; durations within 1 s of the time each was recorded), the decliner is
// absent, the files on disk are not WebM without the key, the events file lists joins, consent and
// the stop, and the playback page plays the recording in Chromium (screenshot kept as an artifact).
// Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserLecternPerFile } from '../helpers/browserLectern.js';
import { projectRoot } from '../../server/paths.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
const ROOM = 'e2e-recording';
const SLOW = { timeout: 30_000 };
const RECORD_MS = 15_000;

const fixture = browserLecternPerFile({ auth: { tokenSecret: 'browser-recording-secret-at-least-32b!' } });
const { errors } = fixture;

const token = (role: 'instructor' | 'student', subject: string): Promise<string> => fixture.token(ROOM, role, subject);
const open = (url: string, name?: string, label = name ?? 'playback'): Promise<Page> => fixture.open(url, label, name ? { name } : {});

const grid = (page: Page) => page.locator('.tile:not(.local)').count();

/** ffprobe's view of a file: streams with frame counts, and the container's duration. */
function probe(file: string): { streams: { codec_type: string; codec_name: string; nb_read_frames?: string }[]; format: { duration?: string } } {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file]).toString()) as ReturnType<typeof probe>;
}

/**
 * Seconds of media in a file, from its packets: a WebM muxed to a pipe has no duration in its
 * header (it cannot seek back to write it), so the last packet's end is the file's length.
 */
function mediaSeconds(file: string): number {
  const lines = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file]).toString().trim().split('\n');
  const [pts = '0', duration = '0'] = (lines.at(-1) ?? '').split(',');
  const first = Number((lines[0] ?? '0').split(',')[0]);
  return Number(pts) + (Number(duration) || 0) - first;
}

describe('recording a class in the browser', () => {
  let teacher: Page;
  let ann: Page;
  let bob: Page;
  let recordingId: string;

  it('three join; the instructor records; one consents, one declines and stays; the class view shows who is recorded', async () => {
    teacher = await open(`${fixture.lectern.url}/r/${ROOM}#token=${await token('instructor', 'teacher@uni')}`, 'Teacher');
    ann = await open(`${fixture.lectern.url}/r/${ROOM}#token=${await token('student', 'ann@uni')}`, 'Ann');
    bob = await open(`${fixture.lectern.url}/r/${ROOM}#token=${await token('student', 'bob@uni')}`, 'Bob');
    for (const page of [teacher, ann, bob]) await expect.poll(() => grid(page), SLOW).toBe(2);

    await teacher.getByRole('button', { name: 'Start recording', exact: true }).click();
    for (const page of [teacher, ann, bob]) await expect.poll(() => page.locator('#recording-banner').isVisible(), SLOW).toBe(true);
    for (const page of [ann, bob]) await page.locator('#recording-notice[open]').waitFor({ timeout: 15_000 });
    // The notice is modal: Escape does not dismiss it.
    await bob.keyboard.press('Escape');
    expect(await bob.locator('#recording-notice[open]').count()).toBe(1);
    await ann.getByRole('button', { name: 'I agree to be recorded' }).click();
    await bob.getByRole('button', { name: 'Do not record me' }).click();
    await expect.poll(() => ann.locator('#recording-me').textContent(), SLOW).toBe('You are being recorded.');
    await expect.poll(() => bob.locator('#recording-me').textContent(), SLOW).toContain('not being recorded');
    await expect.poll(() => teacher.locator('#people-list li[data-recorded="true"] .who').allTextContents(), SLOW).toEqual(['Teacher (you)', 'Ann']);
    // Bob is still in the class.
    expect(await grid(bob)).toBe(2);

    const [listed] = (await fixture.lectern.recordings.list()).filter((r) => r.room === ROOM);
    recordingId = listed!.id;
    await new Promise((resolve) => setTimeout(resolve, RECORD_MS));
    await teacher.getByRole('button', { name: 'Stop recording', exact: true }).click();
    await expect.poll(() => ann.locator('#recording-banner').isVisible(), SLOW).toBe(false);
    await fixture.lectern.recordings.settled(recordingId);
  }, 120_000);

  it('the decrypted tracks pass ffprobe; the decliner is absent; the files on disk are not WebM without the key', async () => {
    const info = await fixture.lectern.recordings.info(recordingId);
    const media = info.manifest.segments.filter((s) => s.trackId !== 'events');
    const peers = new Set(media.map((s) => s.peerId));
    // Teacher and Ann, camera and microphone each; nothing of Bob.
    expect(peers.size).toBe(2);
    expect(media.map((s) => s.source).sort()).toEqual(['camera', 'camera', 'microphone', 'microphone']);
    const events = await fixture.lectern.recordings.events.read(recordingId);
    const bobLabel = events.filter((e) => e.type === 'consent' && e.consent === 'declined').map((e) => e.participant);
    expect(bobLabel).toHaveLength(1);
    expect(events.some((e) => e.type === 'trackStarted' && e.participant === bobLabel[0])).toBe(false);

    const dir = mkdtempSync(join(tmpdir(), 'lectern-e2e-recording-'));
    const durations: string[] = [];
    const audioGaps: number[] = [];
    for (const segment of media) {
      expect(segment.complete).toBe(true);
      // On disk: not a file ffprobe can read.
      const onDisk = join(fixture.lectern.config.recording.dir, recordingId, 'segments', segment.file);
      expect(spawnSync('ffprobe', ['-v', 'error', onDisk]).status).not.toBe(0);
      const { stream } = await fixture.lectern.recordings.store.openSegment(recordingId, segment.segmentId);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      const file = join(dir, `${segment.trackId.replace(':', '-')}.webm`);
      writeFileSync(file, Buffer.concat(chunks));
      const result = probe(file);
      // Recorded time: from the first packet the muxer got (the segment's start) to the moment the
      // track's recording ended (the stop, in the events file); the muxer's own end is later by
      // however long it took to exit, which is not media.
      const ended = info.startedAt + events.find((e) => e.type === 'trackEnded' && e.track === segment.trackId)!.at;
      const recordedSeconds = (ended - segment.startedAt) / 1000;
      expect(recordedSeconds).toBeGreaterThan(10);
      if (segment.kind === 'video') {
        const video = result.streams.find((s) => s.codec_type === 'video');
        expect(video?.codec_name).toBe('vp8');
        expect(Number(video?.nb_read_frames)).toBeGreaterThan(100);
        durations.push(`${segment.trackId.split(':')[1]} ${video?.nb_read_frames} frames in ${recordedSeconds.toFixed(2)} s`);
      } else {
        expect(result.streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('opus');
        const seconds = mediaSeconds(file);
        durations.push(`${segment.trackId.split(':')[1]} ${seconds.toFixed(2)} s of ${recordedSeconds.toFixed(2)} s`);
        audioGaps.push(Math.abs(seconds - recordedSeconds));
      }
    }
    console.log(`recorded tracks: ${durations.join('; ')}`);
    for (const gap of audioGaps) expect(gap).toBeLessThan(1);
  }, 120_000);

  it('the events file lists the joins, the consent decisions and the stop', async () => {
    const events = await fixture.lectern.recordings.events.read(recordingId);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('stopped');
    expect(types.filter((t) => t === 'joined')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'consent').map((e) => e.consent).sort()).toEqual(['consented', 'consented', 'declined', 'pending', 'pending']);
    expect(events.at(-1)!.at).toBeGreaterThan(RECORD_MS);
  });

  it('the instructor exports the recorded class as one file: every recorded track, copied, each ~15 s long', async () => {
    const exported = await fixture.lectern.app.inject({ method: 'GET', url: `/recordings/${recordingId}/export`, headers: { authorization: `Bearer ${await token('instructor', 'teacher@uni')}` } });
    expect(exported.statusCode).toBe(200);
    const file = join(mkdtempSync(join(tmpdir(), 'lectern-e2e-export-')), 'class.mkv');
    writeFileSync(file, exported.rawPayload);
    const streams = probe(file).streams;
    expect(streams.map((s) => `${s.codec_type} ${s.codec_name}`).sort()).toEqual(['audio opus', 'audio opus', 'video vp8', 'video vp8']);
    const packets = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,pts_time', '-of', 'csv=p=0', file]).toString().trim().split('\n').map((l) => l.split(',').map(Number));
    const spans = streams.map((_s, index) => {
      const times = packets.filter(([stream]) => stream === index).map(([, pts]) => pts!);
      return Math.max(...times) - Math.min(...times);
    });
    console.log(`export: ${exported.rawPayload.length} bytes, stream spans ${spans.map((x) => x.toFixed(2)).join(', ')} s`);
    for (const span of spans) expect(span).toBeGreaterThan(RECORD_MS / 1000 - 3);
  }, 60_000);

  it('the playback page plays the recording in Chromium', async () => {
    const issued = await fixture.lectern.app.inject({ method: 'POST', url: `/recordings/${recordingId}/links`, headers: { authorization: `Bearer ${await token('instructor', 'teacher@uni')}` } });
    expect(issued.statusCode).toBe(200);
    const { url } = issued.json() as { url: string };
    const page = await open(`${fixture.lectern.url}${url}`);
    await page.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('#play-events li').count()).toBeGreaterThan(5);
    await page.evaluate(() => (document.getElementById('play-video') as HTMLVideoElement).play());
    await expect
      .poll(() => page.evaluate(() => (document.getElementById('play-video') as HTMLVideoElement).currentTime), SLOW)
      .toBeGreaterThan(2);
    const sound = await page.evaluate(() => [...document.querySelectorAll('audio')].map((a) => a.currentTime));
    expect(sound.length).toBe(2);
    expect(sound.some((t) => t > 0)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'recording-playback.png') });
    errors.expectNone();
  }, 60_000);
});
