// Recording control over real signalling on a real server: only `record` holders start and stop;
// everyone is told at once; only the tracks of those who consented are recorded; a decliner stays
// in the class; late joiners are asked; every decision, start and stop is in the signed audit log;
// and the events file is encrypted in the store like the media.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';
import { AUDIT_FILES, verifyLog, type AuditRecord } from '../../audit/log/index.js';
import type { RecordingStateData } from '../../protocol/index.js';

const SECRET = 'recording-test-secret-at-least-32-bytes!';

function suite(policy: 'ask' | 'inform') {
  let lectern: TestLectern;
  const clients: SignallingClient[] = [];
  beforeAll(async () => {
    lectern = await startLectern({ auth: { tokenSecret: SECRET }, recording: { consent: policy, retentionDays: 30 } });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await lectern.close();
  });

  let ssrc = 1000;
  /** Join with a token, set up transports, say ready, send a microphone (and a camera). */
  async function enter(room: string, name: string, role: 'instructor' | 'student', camera = false) {
    const client = await SignallingClient.connect(lectern.wsUrl);
    clients.push(client);
    const token = await lectern.authenticator.issueRoomToken({ room, role, subject: `${name.toLowerCase()}@uni.example` });
    const joined = await client.ok('join', { room, displayName: name, token });
    const send = await client.ok('createTransport', { direction: 'send' });
    await client.ok('createTransport', { direction: 'recv' });
    await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    await client.ok('produce', { transportId: send.id as string, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(ssrc++) });
    if (camera) await client.ok('produce', { transportId: send.id as string, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(ssrc++) });
    return { client, peerId: joined.peerId as string, name };
  }

  const auditRecords = (): AuditRecord[] =>
    readFileSync(join(lectern.config.audit.dir, AUDIT_FILES.log), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditRecord);

  const stateWhere = (client: SignallingClient, match: (s: RecordingStateData) => boolean) => client.notification('recordingState', match);

  return {
    get lectern() {
      return lectern;
    },
    enter,
    auditRecords,
    stateWhere,
  };
}

describe('recording with policy ask', () => {
  const t = suite('ask');

  it('only a role with `record` may start or stop; retention may be shortened, never lengthened', async () => {
    const teacher = await t.enter('rec-perm', 'Teacher', 'instructor');
    const ann = await t.enter('rec-perm', 'Ann', 'student');
    expect(await ann.client.send('startRecording', {})).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('record') } });
    expect(await teacher.client.send('startRecording', { retentionDays: 31 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('retentionDays') },
    });
    expect(await teacher.client.send('stopRecording', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
    // Strict schema: an unknown key is refused, naming it.
    expect(await teacher.client.sendUnchecked('startRecording', { retention: 3 })).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    expect(await ann.client.sendUnchecked('recordingConsent', { consent: 'yes' })).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    const started = await teacher.client.ok('startRecording', { retentionDays: 7 });
    expect(started.expiresAt).toBe((started.startedAt as number) + 7 * 86_400_000);
    expect(await ann.client.send('stopRecording', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await teacher.client.send('startRecording', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
    await teacher.client.ok('stopRecording', {});
  });

  it('everyone is told at once; only those who consent are recorded; a decliner stays; a late joiner is asked', async () => {
    const room = 'rec-consent';
    const teacher = await t.enter(room, 'Teacher', 'instructor', true);
    const ann = await t.enter(room, 'Ann', 'student', true);
    const bob = await t.enter(room, 'Bob', 'student', true);

    const started = await teacher.client.ok('startRecording', {});
    const id = started.recordingId as string;
    // The notice reaches everyone; nobody but the one who started it is recorded yet.
    for (const p of [ann, bob]) {
      const state = await t.stateWhere(p.client, (s) => s.recording && s.recordingId === id);
      expect(state).toMatchObject({ policy: 'ask', myConsent: 'pending', recordedPeerIds: [teacher.peerId] });
    }
    expect(await t.stateWhere(teacher.client, (s) => s.recording)).toMatchObject({ myConsent: 'consented' });

    expect(await ann.client.ok('recordingConsent', { consent: true })).toMatchObject({ myConsent: 'consented', recordedPeerIds: [teacher.peerId, ann.peerId] });
    expect(await bob.client.ok('recordingConsent', { consent: false })).toMatchObject({ myConsent: 'declined' });
    // The class view is told who is recorded.
    await t.stateWhere(teacher.client, (s) => s.recordedPeerIds.includes(ann.peerId) && !s.recordedPeerIds.includes(bob.peerId));
    // Bob stays in the class.
    expect(await bob.client.ok('sendChat', { text: 'still here' })).toHaveProperty('messageId');

    // A late joiner is asked on entry, and is not recorded until they answer.
    const cai = await t.enter(room, 'Cai', 'student');
    expect(await t.stateWhere(cai.client, (s) => s.recording)).toMatchObject({ myConsent: 'pending', recordingId: id });

    expect((await teacher.client.ok('stopRecording', {})).recordingId).toBe(id);
    await t.stateWhere(ann.client, (s) => !s.recording);

    await t.lectern.recordings.settled(id);
    const events = await t.lectern.recordings.events.read(id);
    const tracks = events.filter((e) => e.type === 'trackStarted').map((e) => e.track!);
    expect(tracks.sort()).toEqual([`${ann.peerId}:camera`, `${ann.peerId}:microphone`, `${teacher.peerId}:camera`, `${teacher.peerId}:microphone`].sort());
    expect(tracks.some((track) => track.startsWith(bob.peerId) || track.startsWith(cai.peerId))).toBe(false);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('stopped');
    expect(types.filter((x) => x === 'joined').length).toBeGreaterThanOrEqual(4);
    expect(events.filter((e) => e.type === 'consent').map((e) => e.consent)).toEqual(['consented', 'pending', 'pending', 'consented', 'declined', 'pending']);
    // Participants are labels in the recording, never names.
    expect(JSON.stringify(events)).not.toMatch(/Ann|Bob|Cai|Teacher|uni\.example/);

    // The events file is encrypted at rest: no event text in any file of the recording.
    const dir = join(t.lectern.config.recording.dir, id);
    for (const file of readdirSync(join(dir, 'segments'))) {
      expect(readFileSync(join(dir, 'segments', file)).toString('latin1')).not.toContain('trackStarted');
    }

    // Every decision, the start and the stop are in the signed audit log, with the recording id.
    const records = t.auditRecords().filter((r) => r.details.recordingId === id);
    expect(records.map((r) => r.action)).toEqual([
      'recording.started',
      'recording.consent',
      'recording.consent',
      'recording.consent',
      'recording.consent',
      'recording.consent',
      'recording.consent',
      'recording.stopped',
    ]);
    const decisions = records.filter((r) => r.action === 'recording.consent').map((r) => [r.details.peerId, r.details.decision]);
    expect(decisions).toEqual([
      [teacher.peerId, 'consented'],
      [ann.peerId, 'pending'],
      [bob.peerId, 'pending'],
      [ann.peerId, 'consented'],
      [bob.peerId, 'declined'],
      [cai.peerId, 'pending'],
    ]);
    // Pseudonymous actors: no subject in clear.
    expect(JSON.stringify(records)).not.toContain('uni.example');
    const verification = await verifyLog(join(t.lectern.config.audit.dir, AUDIT_FILES.log), readFileSync(join(t.lectern.config.audit.dir, AUDIT_FILES.publicKey), 'utf8'));
    expect(verification.problems).toEqual([]);
  });

  it('a participant who withdraws consent is no longer recorded from that moment', async () => {
    const room = 'rec-withdraw';
    const teacher = await t.enter(room, 'Teacher', 'instructor');
    const ann = await t.enter(room, 'Ann', 'student');
    const id = (await teacher.client.ok('startRecording', {})).recordingId as string;
    await ann.client.ok('recordingConsent', { consent: true });
    expect(await ann.client.ok('recordingConsent', { consent: false })).toMatchObject({ myConsent: 'declined', recordedPeerIds: [teacher.peerId] });
    await teacher.client.ok('stopRecording', {});
    await t.lectern.recordings.settled(id);
    const events = await t.lectern.recordings.events.read(id);
    const annTrack = `${ann.peerId}:microphone`;
    const started = events.findIndex((e) => e.type === 'trackStarted' && e.track === annTrack);
    const ended = events.findIndex((e) => e.type === 'trackEnded' && e.track === annTrack);
    const declined = events.findIndex((e) => e.type === 'consent' && e.consent === 'declined');
    expect(started).toBeGreaterThan(-1);
    expect(ended).toBeGreaterThan(declined);
    expect(declined).toBeGreaterThan(started);
  });
});

describe('recording with policy inform', () => {
  const t = suite('inform');

  it('everyone told is recorded unless they decline; the decline stops their tracks', async () => {
    const room = 'rec-inform';
    const teacher = await t.enter(room, 'Teacher', 'instructor');
    const ann = await t.enter(room, 'Ann', 'student');
    const bob = await t.enter(room, 'Bob', 'student');
    const id = (await teacher.client.ok('startRecording', {})).recordingId as string;
    expect(await t.stateWhere(ann.client, (s) => s.recording)).toMatchObject({ policy: 'inform', myConsent: 'informed' });
    await t.stateWhere(teacher.client, (s) => s.recordedPeerIds.length === 3);
    await bob.client.ok('recordingConsent', { consent: false });
    await t.stateWhere(teacher.client, (s) => s.recordedPeerIds.length === 2 && !s.recordedPeerIds.includes(bob.peerId));
    await teacher.client.ok('stopRecording', {});
    await t.lectern.recordings.settled(id);
    const events = await t.lectern.recordings.events.read(id);
    const bobTrack = `${bob.peerId}:microphone`;
    expect(events.filter((e) => e.track === bobTrack && e.type !== 'recorderError').map((e) => e.type)).toEqual(['trackStarted', 'trackEnded']);
    const decisions = t
      .auditRecords()
      .filter((r) => r.action === 'recording.consent' && r.details.recordingId === id)
      .map((r) => r.details.decision);
    expect(decisions).toEqual(['consented', 'informed', 'informed', 'declined']);
  });
});
