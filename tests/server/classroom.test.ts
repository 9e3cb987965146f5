// Running a class over real signalling: lobby, lock, moderation, chat, hands, presenter, simulcast
// layer choice, low-bandwidth mode, and the audit trail those actions leave.
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';
import { verifyLog, AUDIT_FILES } from '../../audit/log/index.js';
import { mediasoupConsumer } from '../helpers/mediasoupLookup.js';

let lectern: TestLectern;
const clients: SignallingClient[] = [];

beforeAll(async () => {
  lectern = await startLectern({ auth: { tokenSecret: 'classroom-test-secret-at-least-32-bytes' } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await lectern.close();
});

async function tokenFor(room: string, role: 'instructor' | 'student', subject?: string): Promise<string> {
  return lectern.authenticator.issueRoomToken({ room, role, ...(subject ? { subject } : {}) });
}

/** Join with a token; if admitted, set up transports and say ready. */
async function enter(room: string, name: string, role: 'instructor' | 'student', subject: string | undefined = `${name}@uni.example`) {
  const client = await SignallingClient.connect(lectern.wsUrl);
  clients.push(client);
  const token = await tokenFor(room, role, subject);
  const joined = await client.ok('join', { room, displayName: name, token });
  const caps = joined.routerRtpCapabilities as Record<string, unknown>;
  const person = { client, token, peerId: joined.peerId as string, admitted: joined.admitted as boolean, sendId: '', caps };
  if (person.admitted) await setUp(person);
  return person;
}

async function setUp(person: { client: SignallingClient; sendId: string; caps: Record<string, unknown> }) {
  person.sendId = (await person.client.ok('createTransport', { direction: 'send' })).id as string;
  await person.client.ok('createTransport', { direction: 'recv' });
  return person.client.ok('ready', { rtpCapabilities: person.caps });
}

describe('lobby and lock', () => {
  it('students wait in the lobby until an instructor admits them; instructors see who waits', async () => {
    const teacher = await enter('lobby-101', 'Teacher', 'instructor');
    await teacher.client.ok('setRoomPolicy', { lobby: true });
    const ann = await enter('lobby-101', 'Ann', 'student');
    const ben = await enter('lobby-101', 'Ben', 'student');
    expect([ann.admitted, ben.admitted]).toEqual([false, false]);
    const lobby = await teacher.client.notification('lobbyChanged', (d) => d.waiting.length === 2);
    expect(lobby.waiting.map((w) => w.displayName)).toEqual(['Ann', 'Ben']);
    expect(await ann.client.send('sendChat', { text: 'let me in' })).toMatchObject({ ok: false, error: { code: 'in_lobby' } });

    expect(await teacher.client.ok('admit', { peerId: ann.peerId })).toEqual({ admitted: 1 });
    await ann.client.notification('admitted');
    await setUp(ann);
    await teacher.client.notification('peersJoined', (d) => d.peers.some((p) => p.id === ann.peerId));
    await teacher.client.ok('deny', { peerId: ben.peerId });
    expect(await ben.client.notification('denied')).toMatchObject({ reason: expect.stringContaining('declined') });
    expect(await ben.client.send('sendChat', { text: 'hello?' })).toMatchObject({ ok: false, error: { code: 'not_joined' } });
  });

  it('admits everyone waiting at once', async () => {
    const teacher = await enter('lobby-all', 'Teacher', 'instructor');
    await teacher.client.ok('setRoomPolicy', { lobby: true });
    const waiting = await Promise.all(['A', 'B', 'C'].map((n) => enter('lobby-all', n, 'student')));
    await teacher.client.notification('lobbyChanged', (d) => d.waiting.length === 3);
    expect(await teacher.client.ok('admit', { all: true })).toEqual({ admitted: 3 });
    await Promise.all(waiting.map((w) => w.client.notification('admitted')));
  });

  it('a locked room refuses students but not instructors', async () => {
    const teacher = await enter('locked', 'Teacher', 'instructor');
    expect(await teacher.client.ok('setRoomPolicy', { locked: true })).toEqual({ locked: true, lobby: false, lectureMode: false });
    const late = await SignallingClient.connect(lectern.wsUrl);
    clients.push(late);
    const reply = await late.send('join', { room: 'locked', displayName: 'Late', token: await tokenFor('locked', 'student', 'late@uni') });
    expect(reply).toMatchObject({ ok: false, error: { code: 'locked' } });
    const coTeacher = await enter('locked', 'Co', 'instructor');
    expect(coTeacher.admitted).toBe(true);
  });
});

describe('moderation', () => {
  it('mute-all pauses every student microphone; with ask-to-unmute they cannot unmute until allowed', async () => {
    const teacher = await enter('mute-101', 'Teacher', 'instructor');
    const ann = await enter('mute-101', 'Ann', 'student');
    const mic = await ann.client.ok('produce', { transportId: ann.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() });
    const teacherMic = await teacher.client.ok('produce', { transportId: teacher.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(555) });
    expect(await teacher.client.ok('muteAll', { allowSelfUnmute: false })).toEqual({ muted: 1 });
    expect(await ann.client.notification('moderatorMuted')).toEqual({ source: 'microphone', canUnmute: false });
    const consumer = await teacher.client.notification('consumerAdded', (d) => d.producerId === mic.producerId);
    await teacher.client.notification('consumerPaused', (d) => d.consumerId === consumer.consumerId);
    expect(await ann.client.send('resumeProducer', { producerId: mic.producerId as string })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining('raise your hand') },
    });
    await ann.client.ok('raiseHand', { raised: true });
    await teacher.client.ok('allowUnmute', { peerId: ann.peerId });
    await ann.client.notification('unmuteAllowed');
    await ann.client.ok('resumeProducer', { producerId: mic.producerId as string });
    await teacher.client.notification('consumerResumed', (d) => d.consumerId === consumer.consumerId);
    // The instructor's own microphone was not touched: Ann's consumer of it never paused, and in
    // the worker its producer is still live.
    const ofTeacher = await ann.client.notification('consumerAdded', (d) => d.producerId === teacherMic.producerId);
    expect(ann.client.received('consumerPaused').filter((d) => d.consumerId === ofTeacher.consumerId)).toEqual([]);
    expect(mediasoupConsumer(ofTeacher.consumerId)?.producerPaused).toBe(false);
    expect(teacher.client.received('moderatorMuted')).toHaveLength(0);
  });

  it('a removed participant is gone and cannot rejoin with the same link or sign-in', async () => {
    const teacher = await enter('remove-101', 'Teacher', 'instructor');
    const troll = await enter('remove-101', 'Troll', 'student', 'troll@uni.example');
    await teacher.client.ok('removeParticipant', { peerId: troll.peerId });
    expect(await troll.client.notification('removed')).toMatchObject({ reason: expect.stringContaining('removed') });
    await teacher.client.notification('peersLeft', (d) => d.peerIds.includes(troll.peerId));
    const again = await SignallingClient.connect(lectern.wsUrl);
    clients.push(again);
    expect(await again.send('join', { room: 'remove-101', displayName: 'Troll2', token: troll.token })).toMatchObject({ ok: false, error: { code: 'removed' } });
    const newLink = await tokenFor('remove-101', 'student', 'troll@uni.example');
    expect(await again.send('join', { room: 'remove-101', displayName: 'Troll3', token: newLink })).toMatchObject({ ok: false, error: { code: 'removed' } });
  });

  it('a presenter may share a screen; revoking it stops the share', async () => {
    const teacher = await enter('present-101', 'Teacher', 'instructor');
    const ann = await enter('present-101', 'Ann', 'student');
    const screen = { transportId: ann.sendId, kind: 'video' as const, source: 'screen' as const, rtpParameters: vp8Parameters(777) };
    expect(await ann.client.send('produce', screen)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    await teacher.client.ok('setPresenter', { peerId: ann.peerId, presenter: true });
    expect(await ann.client.notification('peerUpdated', (d) => d.peer.id === ann.peerId)).toMatchObject({ peer: { presenter: true } });
    const share = await ann.client.ok('produce', screen);
    const consumer = await teacher.client.notification('consumerAdded', (d) => d.producerId === share.producerId);
    expect(consumer.source).toBe('screen');
    await teacher.client.ok('setPresenter', { peerId: ann.peerId, presenter: false });
    await teacher.client.notification('consumerClosed', (d) => d.consumerId === consumer.consumerId);
  });
});

describe('participation', () => {
  it('chat reaches everyone, and a late joiner gets the history', async () => {
    const teacher = await enter('chat-101', 'Teacher', 'instructor');
    const ann = await enter('chat-101', 'Ann', 'student');
    const sent = await ann.client.ok('sendChat', { text: 'Is this on the exam?' });
    const received = await teacher.client.notification('chatMessage');
    expect(received.message).toMatchObject({ id: sent.messageId, from: { id: ann.peerId, displayName: 'Ann' }, text: 'Is this on the exam?' });
    const late = await SignallingClient.connect(lectern.wsUrl);
    clients.push(late);
    const joined = await late.ok('join', { room: 'chat-101', displayName: 'Late', token: await tokenFor('chat-101', 'student', 'late@uni') });
    await late.ok('createTransport', { direction: 'recv' });
    const state = await late.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    expect((state.chat as { text: string }[]).map((m) => m.text)).toEqual(['Is this on the exam?']);
  });

  it('raised hands are queued in order; an instructor can lower one', async () => {
    const teacher = await enter('hands-101', 'Teacher', 'instructor');
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((n) => enter('hands-101', n, 'student')));
    for (const who of [b!, a!, c!]) await who.client.ok('raiseHand', { raised: true });
    const queue = await teacher.client.notification('handQueue', (d) => d.peerIds.length === 3);
    expect(queue.peerIds).toEqual([b!.peerId, a!.peerId, c!.peerId]);
    await teacher.client.ok('lowerHand', { peerId: a!.peerId });
    const lowered = await teacher.client.notification('handQueue', (d) => d.peerIds.length === 2 && !d.peerIds.includes(a!.peerId));
    expect(lowered.peerIds).toEqual([b!.peerId, c!.peerId]);
  });
});

describe('receiving', () => {
  it('picks the simulcast layer that fits the tile, and low-bandwidth mode pauses cameras only', async () => {
    const teacher = await enter('layers-101', 'Teacher', 'instructor');
    const ann = await enter('layers-101', 'Ann', 'student');
    const simulcast = {
      codecs: (vp8Parameters() as { codecs: unknown[] }).codecs,
      headerExtensions: [],
      encodings: [{ ssrc: 1001, scalabilityMode: 'L1T3' }, { ssrc: 1002, scalabilityMode: 'L1T3' }, { ssrc: 1003, scalabilityMode: 'L1T3' }],
      rtcp: { cname: 'teacher' },
    };
    const camera = await teacher.client.ok('produce', { transportId: teacher.sendId, kind: 'video', source: 'camera', rtpParameters: simulcast });
    const mic = await teacher.client.ok('produce', { transportId: teacher.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(1004) });
    const video = await ann.client.notification('consumerAdded', (d) => d.producerId === camera.producerId);
    const audio = await ann.client.notification('consumerAdded', (d) => d.producerId === mic.producerId);
    await ann.client.ok('resumeConsumer', { consumerId: video.consumerId });
    await ann.client.ok('resumeConsumer', { consumerId: audio.consumerId });
    const sizes = [[1280, 720], [640, 360], [320, 180], [160, 90]] as const;
    const layers = [];
    for (const [width, height] of sizes) layers.push((await ann.client.ok('setConsumerPreferences', { consumerId: video.consumerId, width, height })).spatialLayer);
    expect(layers).toEqual([2, 1, 0, 0]);

    const videoConsumer = mediasoupConsumer(video.consumerId);
    expect(videoConsumer?.preferredLayers).toEqual({ spatialLayer: 0, temporalLayer: 2 });

    await ann.client.ok('setLowBandwidth', { enabled: true });
    expect(videoConsumer?.paused).toBe(true);
    expect(mediasoupConsumer(audio.consumerId)?.paused).toBe(false);
    await ann.client.ok('setLowBandwidth', { enabled: false });
    expect(videoConsumer?.paused).toBe(false);
  });
});

describe('audit trail', () => {
  it('records moderation and room lifecycle in a log that verifies', async () => {
    const teacher = await enter('audit-101', 'Teacher', 'instructor');
    const ann = await enter('audit-101', 'Ann', 'student');
    await teacher.client.ok('muteParticipant', { peerId: ann.peerId, source: 'microphone' });
    await teacher.client.ok('setRoomPolicy', { locked: true });
    await teacher.client.ok('removeParticipant', { peerId: ann.peerId });
    await teacher.client.ok('endClass', {});
    await teacher.client.notification('roomClosed');
    const file = joinPath(lectern.config.audit.dir, AUDIT_FILES.log);
    await expect.poll(() => readFileSync(file, 'utf8').includes('"class.ended"'), { timeout: 5000 }).toBe(true);
    const actions = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; subject: string; actor: string; details: Record<string, unknown> })
      .filter((r) => r.subject === 'room:audit-101');
    expect(actions.map((r) => r.action)).toEqual([
      'room.opened', 'peer.joined', 'peer.joined', 'moderation.muted', 'policy.changed', 'moderation.removed', 'peer.left', 'class.ended', 'room.closed',
    ]);
    // Pseudonymous: no identity subject or display name in the log.
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('Ann@uni.example');
    expect(text).not.toContain('"Ann"');
    const verification = await verifyLog(file, lectern.auditLog.publicKeyPem);
    expect(verification).toMatchObject({ ok: true });
  });
});
