// Single-file export of a recording (#16) on a real server with a real store: a recording made as
// the playback test makes one (started over signalling, real VP8 and Opus WebM segments from ffmpeg
// encrypted into the store, the audio joining a second after the video), exported by the room's
// instructor as one Matroska file muxed by ffmpeg from pipes without re-encoding: ffprobe of the
// download shows both streams, with their codecs, frame count and timing; an audit entry names who,
// which recording, the size and the hash of what was sent; nothing was written beside the store;
// a student (even where students may play) and a student's playback link may not export; an
// instructor's playback link (the playback page's Export button) may.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import ebml from 'ts-ebml';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { AUDIT_FILES, type AuditRecord } from '../../audit/log/index.js';
import { startExport, type ExportResult } from '../../server/recording/RecordingExport.js';

const SECRET = 'export-test-secret-at-least-32-bytes!!!!';
const ADMIN_TOKEN = 'export-admin-token-5b1c';
const server = lecternForFile({ auth: { tokenSecret: SECRET, adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] } });
const ROOM = 'export-room';
const VIDEO_SECONDS = 4;
const AUDIO_SECONDS = 3;
const AUDIO_LATE_MS = 1000;
let recordingId: string;

const bearer = async (room: string, role: 'instructor' | 'student') =>
  `Bearer ${await server.lectern.authenticator.issueRoomToken({ room, role, subject: `${role}-${room}@uni.example` })}`;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-export-src-'));
  const video = join(dir, 'camera.webm');
  const audio = join(dir, 'microphone.webm');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=duration=${VIDEO_SECONDS}:size=160x120:rate=15`, '-c:v', 'libvpx', '-b:v', '200k', '-g', '15', '-y', video]);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${AUDIO_SECONDS}:sample_rate=48000`, '-c:a', 'libopus', '-b:a', '32k', '-f', 'webm', '-y', audio]);

  const client = await server.connect();
  const joined = await client.ok('join', { room: ROOM, displayName: 'Teacher', token: (await bearer(ROOM, 'instructor')).slice(7) });
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  recordingId = (await client.ok('startRecording', { studentPlayback: true })).recordingId as string;
  const peerId = joined.peerId as string;
  const { store } = server.lectern.recordings;
  const startedAt = Date.now();
  await store.writeSegment(recordingId, { trackId: `${peerId}:camera`, peerId, kind: 'video', source: 'camera', codec: 'video/VP8', container: 'webm', index: 0, producerId: 'p1', startedAt }, Readable.from([readFileSync(video)]));
  await store.writeSegment(recordingId, { trackId: `${peerId}:microphone`, peerId, kind: 'audio', source: 'microphone', codec: 'audio/opus', container: 'webm', index: 0, producerId: 'p2', startedAt: startedAt + AUDIO_LATE_MS }, Readable.from([readFileSync(audio)]));
  await client.ok('stopRecording', {});
  await server.lectern.recordings.settled(recordingId);
});

const auditOf = async (action: string): Promise<AuditRecord[]> => {
  await server.lectern.auditLog.durable();
  return readFileSync(join(server.lectern.config.audit.dir, AUDIT_FILES.log), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditRecord)
    .filter((r) => r.action === action && r.subject === `recording:${recordingId}`);
};

/** Every file under the recordings directory with its size: to see that an export wrote nothing. */
async function storeListing(): Promise<string[]> {
  const root = server.lectern.config.recording.dir;
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((e) => e.isFile()).map(async (e) => `${join(e.parentPath, e.name)} ${(await stat(join(e.parentPath, e.name))).size}`)).then((l) => l.sort());
}

/** The CueTimes (ms) of a Matroska file: the seek points a player has (none: it cannot seek). */
function cueTimesMs(file: Buffer): number[] {
  let scale = 1_000_000;
  const times: number[] = [];
  for (const element of new ebml.Decoder().decode(new Uint8Array(file).buffer)) {
    if (!('value' in element) || typeof element.value !== 'number') continue;
    if (element.name === 'TimestampScale') scale = element.value;
    if (element.name === 'CueTime') times.push((element.value * scale) / 1_000_000);
  }
  return times;
}

interface Probe {
  streams: { index: number; codec_type: string; codec_name: string }[];
  packets: { stream_index: number; pts_time: string; duration_time?: string }[];
}

describe('single-file export', () => {
  it('the room\'s instructor downloads one Matroska file with the video and audio tracks, in step, not re-encoded; it is audited', async () => {
    const before = await storeListing();
    const response = await server.lectern.app.inject({ method: 'GET', url: `/recordings/${recordingId}/export`, headers: { authorization: await bearer(ROOM, 'instructor') } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('video/x-matroska');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="recording-${recordingId}.mkv"`);
    const file = response.rawPayload;
    expect(file.length).toBeGreaterThan(10_000);
    // The store is as it was: the export decrypted into pipes only.
    expect(await storeListing()).toEqual(before);

    const dir = mkdtempSync(join(tmpdir(), 'lectern-exported-'));
    writeFileSync(join(dir, 'export.mkv'), file);
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=index,codec_type,codec_name:packet=stream_index,pts_time,duration_time', '-of', 'json', join(dir, 'export.mkv')]).toString(),
    ) as Probe;
    const video = probe.streams.find((s) => s.codec_type === 'video')!;
    const audio = probe.streams.find((s) => s.codec_type === 'audio')!;
    expect(probe.streams).toHaveLength(2);
    expect(video.codec_name).toBe('vp8');
    expect(audio.codec_name).toBe('opus');
    const span = (index: number) => {
      const packets = probe.packets.filter((p) => p.stream_index === index);
      const starts = packets.map((p) => Number(p.pts_time));
      const ends = packets.map((p) => Number(p.pts_time) + Number(p.duration_time ?? 0));
      return { count: packets.length, start: Math.min(...starts), end: Math.max(...ends) };
    };
    const v = span(video.index);
    const a = span(audio.index);
    // Every one of the 60 frames copied (no re-encode, none lost); the video lasts its 4 s.
    expect(v.count).toBe(VIDEO_SECONDS * 15);
    expect(v.start).toBeCloseTo(0, 1);
    expect(v.end).toBeGreaterThan(VIDEO_SECONDS - 0.1);
    expect(v.end).toBeLessThan(VIDEO_SECONDS + 0.1);
    // The audio joined a second later and lasts its 3 s.
    expect(a.start).toBeGreaterThan(AUDIO_LATE_MS / 1000 - 0.05);
    expect(a.start).toBeLessThan(AUDIO_LATE_MS / 1000 + 0.05);
    expect(a.end - a.start).toBeGreaterThan(AUDIO_SECONDS - 0.1);
    expect(a.end - a.start).toBeLessThan(AUDIO_SECONDS + 0.1);

    // Seekable: the container says how long it is (Info's Duration) and each stream (Matroska's
    // per-track DURATION tag, which is where ffprobe reads a stream's length), and has Cues.
    const timing = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=index:stream_tags=DURATION', '-of', 'json', join(dir, 'export.mkv')]).toString()) as {
      format: { duration?: string };
      streams: { index: number; tags?: { DURATION?: string } }[];
    };
    console.log('export timing:', JSON.stringify(timing), 'cues at', cueTimesMs(file), 'ms');
    // The file ends with the audio, which began a second after the video.
    const end = AUDIO_LATE_MS / 1000 + AUDIO_SECONDS;
    expect(Number(timing.format.duration)).toBeGreaterThan(end - 0.1);
    expect(Number(timing.format.duration)).toBeLessThan(end + 0.1);
    const seconds = (clock = '') => clock.split(':').reduce((total, part) => total * 60 + Number(part), 0);
    const streamEnds = timing.streams.map((s) => seconds(s.tags?.DURATION));
    expect(streamEnds[video.index]).toBeCloseTo(VIDEO_SECONDS, 1);
    expect(streamEnds[audio.index]).toBeCloseTo(end, 1);
    // A Cue at each of the video's keyframes (one a second).
    expect(cueTimesMs(file)).toEqual([0, 1000, 2000, 3000]);
    expect(Number(response.headers['content-length'])).toBe(file.length);

    const exported = await auditOf('recording.exported');
    expect(exported).toEqual([
      expect.objectContaining({
        actor: expect.stringMatching(/^user:p:/),
        details: { room: ROOM, via: 'token', size: file.length, contentHash: createHash('sha256').update(file).digest('hex'), tracks: 2, complete: true, format: 'matroska' },
      }),
    ]);
  });

  it('an admin and an instructor\'s playback link may export; a student (even where students may play), a guest and a student\'s link may not', async () => {
    const admin = await server.lectern.app.inject({ method: 'GET', url: `/recordings/${recordingId}/export`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(admin.statusCode).toBe(200);
    expect(admin.rawPayload.length).toBeGreaterThan(10_000);

    const student = await bearer(ROOM, 'student');
    expect((await server.lectern.app.inject({ method: 'GET', url: `/recordings/${recordingId}`, headers: { authorization: student } })).statusCode).toBe(200);
    const refused = await server.lectern.app.inject({ method: 'GET', url: `/recordings/${recordingId}/export`, headers: { authorization: student } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'forbidden' } });
    const guest = `Bearer ${await server.lectern.authenticator.issueRoomToken({ room: ROOM, role: 'guest', subject: 'guest@uni.example' })}`;
    expect((await server.lectern.app.inject({ method: 'GET', url: `/recordings/${recordingId}/export`, headers: { authorization: guest } })).statusCode).toBe(403);
    const anonymous = await server.lectern.app.inject({ method: 'GET', url: `/recordings/${recordingId}/export` });
    expect(anonymous.statusCode).toBe(401);
    // A student's playback link plays; it does not export. The page's Export button uses the
    // link an instructor's page was issued, which may (its issuer may).
    const linkOf = async (authorization: string) => ((await server.lectern.app.inject({ method: 'POST', url: `/recordings/${recordingId}/links`, headers: { authorization } })).json() as { token: string }).token;
    const play = async (url: string) => server.lectern.app.inject({ method: 'GET', url });
    const studentLink = await linkOf(student);
    expect((await play(`/recordings/${recordingId}?link=${encodeURIComponent(studentLink)}`)).json()).toMatchObject({ mayExport: false });
    const viaStudentLink = await play(`/recordings/${recordingId}/export?link=${encodeURIComponent(studentLink)}`);
    expect(viaStudentLink.statusCode).toBe(403);
    expect(viaStudentLink.json()).toMatchObject({ error: { code: 'forbidden' } });
    const instructorLink = await linkOf(await bearer(ROOM, 'instructor'));
    expect((await play(`/recordings/${recordingId}?link=${encodeURIComponent(instructorLink)}`)).json()).toMatchObject({ mayExport: true });
    const viaInstructorLink = await play(`/recordings/${recordingId}/export?link=${encodeURIComponent(instructorLink)}`);
    expect(viaInstructorLink.statusCode).toBe(200);
    expect(viaInstructorLink.rawPayload.length).toBeGreaterThan(10_000);
    // A link is for one recording and unforgeable: an edited one is anonymous (401).
    expect((await play(`/recordings/${recordingId}/export?link=${encodeURIComponent(instructorLink.slice(0, -3))}`)).statusCode).toBe(401);

    expect((await auditOf('recording.playbackRefused')).filter((r) => r.details.anonymous !== true).map((r) => [r.details.wanted, r.details.reason, r.details.via])).toEqual([
      ['export', 'role-lacks-record', 'token'],
      ['export', 'guest', 'token'],
      ['export', 'role-lacks-record', 'link'],
    ]);
    expect((await auditOf('recording.exported')).map((r) => r.actor)).toEqual([expect.stringMatching(/^user:p:/), 'system:admin', expect.stringMatching(/^system:playback-link:/)]);
  });

  it('a second pass that muxes different bytes than the first fails the download instead of sending a file whose Cues are wrong', async () => {
    // An ffmpeg that titles each run differently: the two passes then differ in their header.
    const dir = mkdtempSync(join(tmpdir(), 'lectern-export-ffmpeg-'));
    const wrapper = join(dir, 'ffmpeg');
    writeFileSync(wrapper, '#!/bin/bash\nout="${@: -1}"\nset -- "${@:1:$#-1}"\nexec ffmpeg "$@" -metadata "title=run-$RANDOM$RANDOM" "$out"\n', { mode: 0o755 });
    const sealed: ExportResult[] = [];
    const running = await startExport({
      store: server.lectern.recordings.store,
      recordingId,
      segments: (await server.lectern.recordings.info(recordingId)).manifest.segments,
      log: server.lectern.app.log,
      seal: async (result) => {
        sealed.push(result);
      },
      ffmpegPath: wrapper,
    });
    const failure = await new Promise<Error | undefined>((resolve) => {
      running.stream.on('error', resolve).on('end', () => resolve(undefined)).resume();
    });
    expect(failure?.message).toMatch(/second pass differs from the first/);
    const result = await running.result;
    expect(result.complete).toBe(false);
    expect(result.size).toBeLessThan(running.size);
    expect(sealed).toEqual([]);
  });
});
