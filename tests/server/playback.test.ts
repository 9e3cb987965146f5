// Playback over HTTP on a real server: the room's instructor opens a recording and plays a track
// with range requests, decrypted on the fly from the encrypted store (the bytes match what went
// in, and ffprobe reads them); a signed short-lived link works without a sign-in, a forged one
// does not; a student of another room, a student where the room does not allow it, and an
// anonymous request are refused; every playback is an audit entry; schemas are strict.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { AUDIT_FILES, type AuditRecord } from '../../audit/log/index.js';

const SECRET = 'playback-test-secret-at-least-32-bytes!!';
const server = lecternForFile({ auth: { tokenSecret: SECRET } });
let recordingId: string;
let webm: Buffer;
let trackId: string;
/** What a player is served: the seekable view of `webm` (its own bytes stay as they were: openSegment). */
let seekable: Buffer;

const bearer = async (room: string, role: 'instructor' | 'student') =>
  `Bearer ${await server.lectern.authenticator.issueRoomToken({ room, role, subject: `${role}-${room}@uni.example` })}`;

beforeAll(async () => {
  // A real VP8 WebM file, as a recorder would produce (ffmpeg, no network).
  const dir = mkdtempSync(join(tmpdir(), 'lectern-playback-'));
  const file = join(dir, 'camera.webm');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=160x120:rate=15', '-c:v', 'libvpx', '-b:v', '200k', '-y', file]);
  webm = readFileSync(file);

  const client = await server.connect();
  const joined = await client.ok('join', { room: 'play-room', displayName: 'Teacher', token: (await bearer('play-room', 'instructor')).slice(7) });
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  recordingId = (await client.ok('startRecording', {})).recordingId as string;
  const { store } = server.lectern.recordings;
  const stored = await store.writeSegment(
    recordingId,
    { trackId: `${joined.peerId}:camera`, peerId: joined.peerId as string, kind: 'video', source: 'camera', codec: 'video/VP8', container: 'webm', index: 0, producerId: 'p1', startedAt: Date.now() },
    Readable.from([webm]),
  );
  trackId = stored.segmentId;
  expect(stored.seek).toMatchObject({ cues: expect.any(Number) });
  seekable = Buffer.concat(await (await store.openPlayback(recordingId, trackId)).stream.toArray());
  await client.ok('stopRecording', {});
  await server.lectern.recordings.settled(recordingId);
});

const get = async (url: string, headers: Record<string, string> = {}) => server.lectern.app.inject({ method: 'GET', url, headers });

describe('playback', () => {
  it('the room\'s instructor opens the recording: tracks and events, and an audit entry', async () => {
    const response = await get(`/recordings/${recordingId}`, { authorization: await bearer('play-room', 'instructor') });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { recording: { tracks: { id: string; kind: string; contentType: string; size: number }[] }; events: { type: string }[] };
    // The size of the seekable view (the seek index's head, then the file's clusters).
    expect(body.recording.tracks).toEqual([expect.objectContaining({ id: trackId, kind: 'video', contentType: 'video/webm', size: seekable.length })]);
    expect(body.events.map((e) => e.type)).toEqual(expect.arrayContaining(['started', 'joined', 'consent', 'stopped']));
    await server.lectern.auditLog.durable();
    const played = readFileSync(join(server.lectern.config.audit.dir, AUDIT_FILES.log), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter((r) => r.action === 'recording.played' && r.subject === `recording:${recordingId}`);
    expect(played).toEqual([expect.objectContaining({ actor: expect.stringMatching(/^user:p:/), details: { room: 'play-room', via: 'token' } })]);
  });

  it('plays a track with range requests, decrypted on the fly: the seekable view of the bytes that went in', async () => {
    const auth = { authorization: await bearer('play-room', 'instructor') };
    const url = `/recordings/${recordingId}/tracks/${trackId}`;
    const whole = await get(url, auth);
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-type']).toBe('video/webm');
    expect(whole.rawPayload.equals(seekable)).toBe(true);
    // The segment itself decrypts to exactly the bytes that went in; the view ends on their clusters.
    const { stream } = await server.lectern.recordings.store.openSegment(recordingId, trackId);
    expect(Buffer.concat(await stream.toArray()).equals(webm)).toBe(true);
    const webmCluster = webm.indexOf(Buffer.from('1f43b675', 'hex'));
    expect(seekable.includes(webm.subarray(webmCluster, webmCluster + 4096))).toBe(true);
    // The decrypted bytes are a valid WebM with video frames.
    const dir = mkdtempSync(join(tmpdir(), 'lectern-played-'));
    writeFileSync(join(dir, 'played.webm'), whole.rawPayload);
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', join(dir, 'played.webm')]).toString()) as { streams: { codec_name: string; nb_read_frames: string }[] };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'vp8' });
    expect(Number(probe.streams[0]!.nb_read_frames)).toBe(30);

    const first = await get(url, { ...auth, range: 'bytes=0-99' });
    expect(first.statusCode).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99/${seekable.length}`);
    expect(first.rawPayload.equals(seekable.subarray(0, 100))).toBe(true);
    // A range across the end of the seek index's head into the segment's clusters.
    const { seek } = (await server.lectern.recordings.store.manifest(recordingId)).segments.find((s) => s.segmentId === trackId)!;
    const across = await get(url, { ...auth, range: `bytes=${seek!.headSize - 10}-${seek!.headSize + 9}` });
    expect(across.statusCode).toBe(206);
    expect(across.rawPayload.equals(seekable.subarray(seek!.headSize - 10, seek!.headSize + 10))).toBe(true);
    expect(across.rawPayload.subarray(10, 14).toString('hex')).toBe('1f43b675'); // the first Cluster
    const middle = await get(url, { ...auth, range: `bytes=70000-` });
    if (seekable.length > 70000) expect(middle.rawPayload.equals(seekable.subarray(70000))).toBe(true);
    else expect(middle.statusCode).toBe(416);
    const tail = await get(url, { ...auth, range: 'bytes=-50' });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.equals(seekable.subarray(seekable.length - 50))).toBe(true);
    const beyond = await get(url, { ...auth, range: `bytes=${seekable.length}-` });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${seekable.length}`);
    // The events file is not a track.
    expect((await get(`/recordings/${recordingId}/tracks/seg-0001`, auth)).statusCode).toBe(trackId === 'seg-0001' ? 200 : 404);
  });

  it('a signed short-lived link plays without a sign-in; a forged or foreign link does not', async () => {
    const issued = await server.lectern.app.inject({ method: 'POST', url: `/recordings/${recordingId}/links`, headers: { authorization: await bearer('play-room', 'instructor') } });
    expect(issued.statusCode).toBe(200);
    const { token, expiresAt, url } = issued.json() as { token: string; expiresAt: number; url: string };
    expect(url).toBe(`/play/${recordingId}#link=${token}`);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(server.lectern.config.recording.playbackLinkTtlSeconds * 1000);
    const ok = await get(`/recordings/${recordingId}/tracks/${trackId}?link=${encodeURIComponent(token)}`, { range: 'bytes=0-9' });
    expect(ok.statusCode).toBe(206);
    const forged = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}A`;
    expect((await get(`/recordings/${recordingId}/tracks/${trackId}?link=${encodeURIComponent(forged)}`)).statusCode).toBe(401);
    expect((await get(`/recordings/00000000-0000-4000-8000-000000000000?link=${encodeURIComponent(token)}`)).statusCode).toBe(404);
  });

  it('refuses a student of another room, a student where students may not play, and an anonymous request', async () => {
    const url = `/recordings/${recordingId}/tracks/${trackId}`;
    const anonymous = await get(url);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const otherRoom = await get(url, { authorization: await bearer('other-room', 'student') });
    expect(otherRoom.statusCode).toBe(403);
    const otherInstructor = await get(`/recordings/${recordingId}`, { authorization: await bearer('other-room', 'instructor') });
    expect(otherInstructor.statusCode).toBe(403);
    const student = await get(url, { authorization: await bearer('play-room', 'student') });
    expect(student.statusCode).toBe(403);
    expect(student.json()).toMatchObject({ error: { code: 'forbidden', message: expect.stringContaining('student') } });
    // Students may not ask for links either.
    expect((await server.lectern.app.inject({ method: 'POST', url: `/recordings/${recordingId}/links`, headers: { authorization: await bearer('play-room', 'student') } })).statusCode).toBe(403);
  });

  it('strict schemas: an unknown query key, a bad id or track name is a 400 naming the field', async () => {
    const auth = { authorization: await bearer('play-room', 'instructor') };
    const extra = await get(`/recordings/${recordingId}?foo=1`, auth);
    expect(extra.statusCode).toBe(400);
    expect(extra.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringContaining('foo') } });
    expect((await get(`/recordings/not-a-uuid`, auth)).statusCode).toBe(400);
    expect((await get(`/recordings/${recordingId}/tracks/..%2Fmanifest.json`, auth)).statusCode).toBe(400);
  });
});

/** A recording of `room` whose students may play it, with one video track. */
async function openRecording(room: string): Promise<{ id: string; track: string }> {
  const client = await server.connect();
  const token = (await bearer(room, 'instructor')).slice(7);
  const joined = await client.ok('join', { room, displayName: 'Teacher', token });
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  const id = (await client.ok('startRecording', { studentPlayback: true })).recordingId as string;
  const stored = await server.lectern.recordings.store.writeSegment(
    id,
    { trackId: `${joined.peerId}:camera`, peerId: joined.peerId as string, kind: 'video', source: 'camera', codec: 'video/VP8', container: 'webm', index: 0, producerId: 'p1', startedAt: Date.now() },
    Readable.from([webm]),
  );
  await client.ok('stopRecording', {});
  await server.lectern.recordings.settled(id);
  return { id, track: stored.segmentId };
}

const auditOf = async (recording: string, action: string): Promise<AuditRecord[]> => {
  await server.lectern.auditLog.durable();
  return readFileSync(join(server.lectern.config.audit.dir, AUDIT_FILES.log), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditRecord)
    .filter((r) => r.action === action && r.subject === `recording:${recording}`);
};

describe('where the room allows students to play', () => {
  it('a student of the room plays; a student of another room still may not', async () => {
    const { id } = await openRecording('open-room');
    expect((await get(`/recordings/${id}`, { authorization: await bearer('open-room', 'student') })).statusCode).toBe(200);
    expect((await get(`/recordings/${id}`, { authorization: await bearer('play-room', 'student') })).statusCode).toBe(403);
  });

  it('only students of the room: a sign-in or an all-rooms link names no room, so it is refused; a guest never plays', async () => {
    const a = await openRecording('room-a');
    const b = await openRecording('room-b');
    const studentOfA = await bearer('room-a', 'student');
    // A student of room A lists and plays A's recording (the room allows it) ...
    expect((await get(`/recordings/${a.id}`, { authorization: studentOfA })).statusCode).toBe(200);
    expect((await get(`/recordings/${a.id}/tracks/${a.track}`, { authorization: studentOfA, range: 'bytes=0-9' })).statusCode).toBe(206);
    // ... but neither lists nor plays B's, nor gets a link to it.
    const refusals = [
      await get(`/recordings/${b.id}`, { authorization: studentOfA }),
      await get(`/recordings/${b.id}/tracks/${b.track}`, { authorization: studentOfA }),
      await server.lectern.app.inject({ method: 'POST', url: `/recordings/${b.id}/links`, headers: { authorization: studentOfA } }),
    ];
    // A student signed in (a session is good for every room) belongs to no room by it.
    const session = await server.lectern.authenticator.sessions.sealSession({ subject: 'signed-in-student@uni.example', role: 'student', room: '*', via: 'oidc' });
    refusals.push(await get(`/recordings/${b.id}`, { cookie: `lectern_session=${session}` }));
    refusals.push(await get(`/recordings/${a.id}/tracks/${a.track}`, { cookie: `lectern_session=${session}` }));
    // Nor does a student link for every room.
    const everyRoom = `Bearer ${await server.lectern.authenticator.issueRoomToken({ room: '*', role: 'student', subject: 'all-rooms-student@uni.example' })}`;
    refusals.push(await get(`/recordings/${b.id}`, { authorization: everyRoom }));
    // A guest of the room, never.
    const guest = `Bearer ${await server.lectern.authenticator.issueRoomToken({ room: 'room-b', role: 'guest', subject: 'guest@uni.example' })}`;
    refusals.push(await get(`/recordings/${b.id}`, { authorization: guest }));
    refusals.push(await get(`/recordings/${b.id}/tracks/${b.track}`, { authorization: guest }));
    for (const refused of refusals) {
      expect(refused.statusCode).toBe(403);
      // One error body, whatever the reason.
      expect(refused.json()).toEqual(refusals[0]!.json());
    }
    expect(refusals[0]!.json()).toMatchObject({ error: { code: 'forbidden' } });
    // Each refusal is audited, with who (pseudonymised) and why.
    const refusedB = await auditOf(b.id, 'recording.playbackRefused');
    expect(refusedB.map((r) => r.details.reason).sort()).toEqual(['guest', 'guest', 'not-a-member', 'not-a-member', 'not-a-member', 'not-a-member', 'not-a-member'].sort());
    expect(refusedB.every((r) => r.actor.startsWith('user:p:') && r.details.room === 'room-b')).toBe(true);
    expect((await auditOf(a.id, 'recording.playbackRefused')).map((r) => r.details)).toEqual([expect.objectContaining({ reason: 'not-a-member', via: 'oidc', role: 'student', wanted: 'play' })]);
    // The room's instructor still plays, as does a signed-in instructor.
    expect((await get(`/recordings/${b.id}`, { authorization: await bearer('room-b', 'instructor') })).statusCode).toBe(200);
    const teacher = await server.lectern.authenticator.sessions.sealSession({ subject: 'teacher@uni.example', role: 'instructor', room: '*', via: 'oidc' });
    expect((await get(`/recordings/${b.id}`, { cookie: `lectern_session=${teacher}` })).statusCode).toBe(200);
  });
});

describe('refusals without a credential', () => {
  const refusedAnonymously = (lines: string[]): AuditRecord[] =>
    lines.map((l) => JSON.parse(l) as AuditRecord).filter((r) => r.action === 'recording.playbackRefused' && r.details.anonymous === true);
  const logLines = async (): Promise<string[]> => {
    await server.lectern.auditLog.durable();
    return readFileSync(join(server.lectern.config.audit.dir, AUDIT_FILES.log), 'utf8').split('\n').filter(Boolean);
  };
  // The minute being counted is audited once it is over: a clock a minute on, as the sweeper's test moves it.
  const minuteLater = () => server.lectern.recordings.anonymousRefusals.flush(Date.now() + 61_000);

  it('are audited as one entry per address and minute with the count, so a flood cannot grow the log per request', async () => {
    const other = await openRecording('flood-room');
    await minuteLater(); // what earlier tests left counted
    const before = (await logLines()).length;
    const FLOOD = 300;
    const flooder = '192.0.2.7';
    for (let i = 0; i < FLOOD; i++) {
      const url = i % 3 === 0 ? `/recordings/${other.id}` : `/recordings/${recordingId}/tracks/${trackId}`;
      const refused = await server.lectern.app.inject({ method: 'GET', url, remoteAddress: flooder });
      expect(refused.statusCode).toBe(401);
    }
    // A forged link and a malformed room link, from another address.
    const prober = '192.0.2.8';
    for (const request of [{ url: `/recordings/${recordingId}?link=forged.link` }, { url: `/recordings/${recordingId}`, headers: { authorization: 'Bearer not-a-jwt' } }]) {
      expect((await server.lectern.app.inject({ method: 'GET', remoteAddress: prober, ...request })).statusCode).toBe(401);
    }
    await minuteLater();
    const lines = (await logLines()).slice(before);
    const entries = refusedAnonymously(lines);
    // One entry per address-minute (two if a minute turned during the flood), nothing else written.
    expect(lines).toHaveLength(entries.length);
    const of = (address: string) => entries.filter((e) => e.details.address === server.lectern.auditLog.pseudonym(`address:${address}`));
    const flood = of(flooder);
    const probe = of(prober);
    console.log(`anonymous refusals: ${FLOOD + 2} requests refused, ${entries.length} audit entries:`, JSON.stringify(entries.map((e) => [e.subject, e.details])));
    expect(flood.length).toBeGreaterThanOrEqual(1);
    expect(flood.length).toBeLessThanOrEqual(2);
    expect(probe.length).toBeGreaterThanOrEqual(1);
    expect(probe.length).toBeLessThanOrEqual(2);
    expect(entries).toHaveLength(flood.length + probe.length);
    expect(flood.reduce((n, e) => n + Number(e.details.count), 0)).toBe(FLOOD);
    expect(probe.reduce((n, e) => n + Number(e.details.count), 0)).toBe(2);
    expect(new Set(flood.flatMap((e) => e.details.recordings as string[]))).toEqual(new Set([recordingId, other.id]));
    for (const entry of flood) expect(entry.details).toMatchObject({ anonymous: true, wanted: ['play'], reasons: ['no-credential'] });
    expect(new Set(probe.flatMap((e) => e.details.reasons as string[]))).toEqual(new Set(['invalid-credential']));
    expect(probe.every((e) => e.subject === `recording:${recordingId}`)).toBe(true);
    for (const entry of entries) expect(entry.actor).toBe('system:anonymous');
    // The addresses are pseudonyms, as users are: the log never holds them.
    expect(lines.join('\n')).not.toContain(flooder);
    expect(lines.join('\n')).not.toContain(prober);
  });

  it('memory stays bounded: past 1000 addresses in a minute the rest are counted in one entry', async () => {
    await minuteLater();
    const before = (await logLines()).length;
    const refusals = server.lectern.recordings.anonymousRefusals;
    for (let i = 0; i < 1200; i++) refusals.note({ address: `198.51.${i >> 8}.${i & 255}`, recordingId, wanted: 'play', reason: 'no-credential' });
    const appended = await minuteLater();
    const entries = refusedAnonymously((await logLines()).slice(before));
    expect(appended).toHaveLength(1001);
    expect(entries).toHaveLength(1001);
    expect(entries.filter((e) => e.details.address === 'others').map((e) => e.details.count)).toEqual([200]);
  });
});
