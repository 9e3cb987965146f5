// Lecture mode over real signalling and a real mediasoup worker: students join muted and without
// camera (their tracks are created paused in the worker, and unmuting is refused until an instructor
// allows it); instructors and presenters are exempt; the toggle is instructor-only, announced and
// audited. Also: the room forwards only its loudest microphones, through the server's own wiring.
import '../helpers/mediasoupLookup.js';
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';
import { mediasoupConsumer, mediasoupProducer } from '../helpers/mediasoupLookup.js';
import { AUDIT_FILES } from '../../audit/log/index.js';

const server = lecternForFile({
  auth: { tokenSecret: 'lecture-mode-test-secret-at-least-32-bytes' },
  rooms: { lectureMode: true, forwardedSpeakers: 1 },
  signalling: { maxRequestsPerSecond: 1000 },
});

let ssrc = 40_000_000;

/** Join with a token, set up transports, say ready. */
async function enter(room: string, name: string, role: 'instructor' | 'student') {
  const client = await server.connect();
  const token = await server.lectern.authenticator.issueRoomToken({ room, role, subject: `${name}@uni.example` });
  const joined = await client.ok('join', { room, displayName: name, token });
  const sendId = (await client.ok('createTransport', { direction: 'send' })).id as string;
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  const produce = async (source: 'microphone' | 'camera') => {
    const reply = await client.ok('produce', {
      transportId: sendId,
      kind: source === 'microphone' ? 'audio' : 'video',
      source,
      rtpParameters: source === 'microphone' ? opusParameters(ssrc++) : vp8Parameters(ssrc++),
    });
    return reply.producerId as string;
  };
  return { client, peerId: joined.peerId as string, policy: joined.policy as Record<string, unknown>, produce };
}

const pausedInWorker = (producerId: string) => mediasoupProducer(producerId)?.paused;

function auditRecords(room: string) {
  return readFileSync(joinPath(server.lectern.config.audit.dir, AUDIT_FILES.log), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { action: string; subject: string; details: Record<string, unknown> })
    .filter((r) => r.subject === `room:${room}`);
}

describe('lecture mode', () => {
  it('a student joins muted and without camera until allowed; an instructor is not held', async () => {
    const teacher = await enter('lecture-101', 'Teacher', 'instructor');
    const ann = await enter('lecture-101', 'Ann', 'student');
    expect(ann.policy).toEqual({ locked: false, lobby: false, lectureMode: true });

    const mic = await ann.produce('microphone');
    const camera = await ann.produce('camera');
    // Held in the worker, not just on Ann's screen.
    expect(pausedInWorker(mic)).toBe(true);
    expect(pausedInWorker(camera)).toBe(true);
    expect(await ann.client.notification('moderatorMuted', (d) => d.source === 'microphone')).toEqual({ source: 'microphone', canUnmute: false });
    await ann.client.notification('moderatorMuted', (d) => d.source === 'camera');
    expect((await teacher.client.notification('consumerAdded', (d) => d.producerId === mic)).producerPaused).toBe(true);
    expect(await ann.client.send('resumeProducer', { producerId: mic })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await ann.client.send('resumeProducer', { producerId: camera })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(pausedInWorker(mic)).toBe(true);

    // Closing the held track and sending a new one does not get around it.
    await ann.client.ok('closeProducer', { producerId: mic });
    const again = await ann.produce('microphone');
    expect(pausedInWorker(again)).toBe(true);

    const teacherMic = await teacher.produce('microphone');
    const teacherCamera = await teacher.produce('camera');
    expect(pausedInWorker(teacherMic)).toBe(false);
    expect(pausedInWorker(teacherCamera)).toBe(false);
    expect(teacher.client.received('moderatorMuted')).toEqual([]);

    // Ann raises her hand; the instructor lets her speak.
    await ann.client.ok('raiseHand', { raised: true });
    await teacher.client.ok('allowUnmute', { peerId: ann.peerId });
    await ann.client.notification('unmuteAllowed');
    await ann.client.ok('resumeProducer', { producerId: again });
    expect(pausedInWorker(again)).toBe(false);
  });

  it('only instructors may toggle it; everyone is told, students are held or released, and it is audited', async () => {
    const room = 'lecture-toggle';
    const teacher = await enter(room, 'Teacher', 'instructor');
    const ann = await enter(room, 'Ann', 'student');
    expect(await ann.client.send('setLectureMode', { enabled: false })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await ann.client.sendUnchecked('setLectureMode', { enabled: 'no' })).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    expect(await ann.client.sendUnchecked('setLectureMode', { enabled: false, extra: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    const mic = await ann.produce('microphone');
    expect(pausedInWorker(mic)).toBe(true);

    expect(await teacher.client.ok('setLectureMode', { enabled: false })).toEqual({ locked: false, lobby: false, lectureMode: false });
    await ann.client.notification('roomPolicy', (p) => !p.lectureMode);
    await teacher.client.notification('roomPolicy', (p) => !p.lectureMode);
    await ann.client.notification('unmuteAllowed');
    // Released, not unmuted for her: she unmutes herself.
    expect(pausedInWorker(mic)).toBe(true);
    await ann.client.ok('resumeProducer', { producerId: mic });
    expect(pausedInWorker(mic)).toBe(false);

    const teacherMic = await teacher.produce('microphone');
    expect(await teacher.client.ok('setLectureMode', { enabled: true })).toMatchObject({ lectureMode: true });
    await ann.client.notification('roomPolicy', (p) => p.lectureMode);
    await ann.client.notification('moderatorMuted', (d) => d.source === 'microphone');
    expect(pausedInWorker(mic)).toBe(true);
    expect(pausedInWorker(teacherMic)).toBe(false);
    expect(await ann.client.send('resumeProducer', { producerId: mic })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    const lectureRecords = () => auditRecords(room).filter((r) => r.action === 'moderation.lectureMode');
    await expect.poll(() => lectureRecords().length, { timeout: 5000 }).toBe(2);
    expect(lectureRecords().map((r) => r.details)).toEqual([
      { enabled: false, affected: 1, actorRole: 'instructor' },
      { enabled: true, affected: 1, actorRole: 'instructor' },
    ]);
  });

  it('a presenter speaks freely, and is held again when no longer presenter', async () => {
    const room = 'lecture-presenter';
    const teacher = await enter(room, 'Teacher', 'instructor');
    const ben = await enter(room, 'Ben', 'student');
    await teacher.client.ok('setPresenter', { peerId: ben.peerId, presenter: true });
    await ben.client.notification('unmuteAllowed');
    const mic = await ben.produce('microphone');
    expect(pausedInWorker(mic)).toBe(false);
    await teacher.client.ok('setPresenter', { peerId: ben.peerId, presenter: false });
    await ben.client.notification('moderatorMuted', (d) => d.source === 'microphone');
    expect(pausedInWorker(mic)).toBe(true);
  });

  it('"mute all, ask to unmute" cannot be got around by sending a new microphone (outside lecture mode too)', async () => {
    const room = 'mute-all-bypass';
    const teacher = await enter(room, 'Teacher', 'instructor');
    await teacher.client.ok('setLectureMode', { enabled: false });
    const ann = await enter(room, 'Ann', 'student');
    const mic = await ann.produce('microphone');
    expect(pausedInWorker(mic)).toBe(false);
    await teacher.client.ok('muteAll', { allowSelfUnmute: false });
    await ann.client.notification('moderatorMuted');
    await ann.client.ok('closeProducer', { producerId: mic });
    const fresh = await ann.produce('microphone');
    expect(pausedInWorker(fresh)).toBe(true);
  });
});

describe('loudest speakers through the server', () => {
  it('with forwardedSpeakers 1 and two open student microphones, a listener receives one; instructors always', async () => {
    const room = 'seminar-loudest';
    const teacher = await enter(room, 'Teacher', 'instructor');
    await teacher.client.ok('setLectureMode', { enabled: false });
    const ann = await enter(room, 'Ann', 'student');
    const ben = await enter(room, 'Ben', 'student');
    const annMic = await ann.produce('microphone');
    const benMic = await ben.produce('microphone');
    const teacherMic = await teacher.produce('microphone');
    // A listener resumes every audio consumer, as the browser does once a track is wired up.
    const listener = await enter(room, 'Listener', 'student');
    const consumerOf = async (producerId: string) => {
      const added = await listener.client.notification('consumerAdded', (d) => d.producerId === producerId);
      await listener.client.ok('resumeConsumer', { consumerId: added.consumerId });
      return added.consumerId;
    };
    const [ofAnn, ofBen, ofTeacher] = [await consumerOf(annMic), await consumerOf(benMic), await consumerOf(teacherMic)];
    // No audio flows in this test, so no level can reorder them: Ann opened first and keeps the one place.
    expect(mediasoupConsumer(ofAnn)?.paused).toBe(false);
    expect(mediasoupConsumer(ofBen)?.paused).toBe(true);
    expect(mediasoupConsumer(ofTeacher)?.paused).toBe(false);
    // Ann mutes: Ben gets the place, and the listener receives him without asking again.
    await ann.client.ok('pauseProducer', { producerId: annMic });
    await expect.poll(() => mediasoupConsumer(ofBen)?.paused, { timeout: 3000 }).toBe(false);
  });
});
