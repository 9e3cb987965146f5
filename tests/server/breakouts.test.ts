// Breakout rooms over real signalling and a real mediasoup worker: splitting moves consumers (closed
// across groups, created within them) on the transports each participant already has; bringing
// everyone back, the timer and its warning, visits, chat per room, broadcasts, permissions.
import '../helpers/mediasoupLookup.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';
import { consumersOnTransport, mediasoupTransport } from '../helpers/mediasoupLookup.js';
import type { BreakoutState } from '../../protocol/index.js';

let lectern: TestLectern;
const clients: SignallingClient[] = [];

beforeAll(async () => {
  // A one-second warning lead, so a two-second breakout shows both the warning and the return.
  // Signalling-only publishers send no RTP, so each of their tracks keeps weighing an unmeasured
  // camera layer (TrackRates.UNMEASURED, to a browser); this file's classes together would pass
  // one worker's default capacity, which is not what these tests are about.
  lectern = await startLectern({
    auth: { tokenSecret: 'breakouts-test-secret-at-least-32-bytes' },
    rooms: { breakoutWarningSeconds: 1 },
    media: { capacity: { packetsPerWorker: 500_000 } },
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await lectern.close();
});

type Person = Awaited<ReturnType<typeof enter>>;
let ssrc = 1000;

/** Join, set up both transports, say ready, and send a microphone and a camera. */
async function enter(room: string, name: string, role: 'instructor' | 'student') {
  const client = await SignallingClient.connect(lectern.wsUrl);
  clients.push(client);
  const token = await lectern.authenticator.issueRoomToken({ room, role, subject: `${name}@uni.example` });
  const joined = await client.ok('join', { room, displayName: name, token });
  const sendId = (await client.ok('createTransport', { direction: 'send' })).id as string;
  const recvId = (await client.ok('createTransport', { direction: 'recv' })).id as string;
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  const mic = await client.ok('produce', { transportId: sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(ssrc++) });
  const cam = await client.ok('produce', { transportId: sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(ssrc++) });
  return { client, name, peerId: joined.peerId as string, sendId, recvId, producers: [mic.producerId as string, cam.producerId as string] };
}

/** A class of one instructor and four students, everyone receiving everyone. */
async function classOfFive(room: string) {
  const teacher = await enter(room, 'Teacher', 'instructor');
  const students = [];
  for (const name of ['Ann', 'Ben', 'Cas', 'Dee']) students.push(await enter(room, name, 'student'));
  const everyone = [teacher, ...students];
  for (const person of everyone) {
    await expectReceives(person, everyone.filter((p) => p !== person));
    // ...and the client has been told of each (notifications may trail the worker).
    await expect.poll(() => person.client.received('consumerAdded').length).toBe(2 * (everyone.length - 1));
  }
  return { teacher, students, everyone };
}

/** The worker's consumers on this person's receive transport are exactly the producers of `senders`. */
async function expectReceives(person: Person, senders: Person[]): Promise<void> {
  const expected = senders.flatMap((s) => s.producers).sort();
  await expect
    .poll(() => consumersOnTransport(person.recvId).map((c) => c.producerId).sort(), { timeout: 10_000, message: `${person.name} receives` })
    .toEqual(expected);
}

function membersOf(state: BreakoutState, everyone: Person[], group: string): Person[] {
  const ids = state.groups.find((g) => g.id === group)?.peerIds ?? [];
  return everyone.filter((p) => ids.includes(p.peerId));
}

describe('splitting and returning', () => {
  it('split moves consumers within each group on the same transports; return brings everyone back', async () => {
    const { teacher, students, everyone } = await classOfFive('split-101');
    const iceBefore = new Map(everyone.map((p) => [p.recvId, JSON.stringify(mediasoupTransport(p.recvId)?.iceParameters)]));
    const addedBefore = new Map(everyone.map((p) => [p, p.client.received('consumerAdded').length]));

    const state = (await teacher.client.ok('startBreakouts', { rooms: 2 })) as BreakoutState;
    expect(state).toMatchObject({ active: true, group: 'main', endsAt: null });
    const groupA = membersOf(state, students, 'b1');
    const groupB = membersOf(state, students, 'b2');
    expect([groupA.length, groupB.length]).toEqual([2, 2]);

    for (const group of [groupA, groupB]) for (const person of group) await expectReceives(person, group.filter((p) => p !== person));
    await expectReceives(teacher, []);
    // What closed was announced: Ann's consumers of the other group and of the teacher.
    const [a1, a2] = groupA as [Person, Person];
    // teacher + two of the other group, two tracks each
    await expect.poll(() => a1.client.received('consumerClosed').length).toBe(3 * 2);
    await a1.client.notification('breakoutState', (d) => d.active);
    // Nothing new within the group: the groupmate's consumers stayed as they were.
    expect(a1.client.received('consumerAdded').length).toBe(addedBefore.get(a1));
    // Presence: Ann is told the teacher and the other group left, and the others are told she did.
    await a1.client.notification('peersLeft', (d) => d.peerIds.includes(teacher.peerId));
    const left = a1.client.received('peersLeft').flatMap((d) => d.peerIds);
    expect(left.sort()).toEqual([teacher.peerId, ...groupB.map((p) => p.peerId)].sort());
    expect(left).not.toContain(a2.peerId);
    expect((await a1.client.notification('breakoutState', (d) => d.active)).group).toBe('b1');

    await teacher.client.ok('endBreakouts', {});
    for (const person of everyone) await expectReceives(person, everyone.filter((p) => p !== person));
    expect((await a1.client.notification('breakoutState', (d) => !d.active)).group).toBe('main');
    await a1.client.notification('peersJoined', (d) => d.peers.some((p) => p.id === teacher.peerId));

    // Same transports all along, never closed, ICE parameters untouched (no restart).
    for (const person of everyone) {
      const transport = mediasoupTransport(person.recvId);
      expect(transport?.closed).toBe(false);
      expect(JSON.stringify(transport?.iceParameters)).toBe(iceBefore.get(person.recvId));
    }
  });

  it('the timer warns every room, then brings everyone back by itself', async () => {
    const { teacher, students, everyone } = await classOfFive('timer-101');
    const started = Date.now();
    const state = (await teacher.client.ok('startBreakouts', { rooms: 2, durationSeconds: 2 })) as BreakoutState;
    expect(state.endsAt).toBeGreaterThanOrEqual(started + 2000);
    for (const person of students) {
      const group = state.groups.find((g) => g.peerIds.includes(person.peerId))?.id ?? 'none';
      await expectReceives(person, membersOf(state, students, group).filter((p) => p !== person));
    }
    const warnings = await Promise.all(everyone.map((p) => p.client.notification('breakoutWarning')));
    expect(warnings.every((w) => w.secondsLeft === 1)).toBe(true);
    const warnedAt = Date.now() - started;
    await Promise.all(everyone.map((p) => p.client.notification('breakoutState', (d) => !d.active)));
    const returnedAt = Date.now() - started;
    expect(warnedAt).toBeGreaterThanOrEqual(950);
    expect(returnedAt).toBeGreaterThanOrEqual(1950);
    for (const person of everyone) await expectReceives(person, everyone.filter((p) => p !== person));
    // Ending again is refused: the timer already did.
    expect(await teacher.client.send('endBreakouts', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });
});

describe('visits, chat and broadcasts', () => {
  it('an instructor visits one breakout room: seen and heard there only; chat stays per room; broadcasts reach all', async () => {
    const { teacher, students } = await classOfFive('visit-101');
    const state = (await teacher.client.ok('startBreakouts', { rooms: 2 })) as BreakoutState;
    const groupA = membersOf(state, students, 'b1');
    const groupB = membersOf(state, students, 'b2');
    await expectReceives(teacher, []);

    const visiting = (await teacher.client.ok('visitBreakout', { group: 'b1' })) as BreakoutState;
    expect(visiting.group).toBe('b1');
    expect(visiting.groups.find((g) => g.id === 'b1')?.peerIds).toContain(teacher.peerId);
    await expectReceives(teacher, groupA);
    for (const person of groupA) await expectReceives(person, [teacher, ...groupA.filter((p) => p !== person)]);
    for (const person of groupB) await expectReceives(person, groupB.filter((p) => p !== person));

    const [a1, a2] = groupA as [Person, Person];
    const [b1, b2] = groupB as [Person, Person];
    await a1.client.ok('sendChat', { text: 'room one only' });
    await a2.client.notification('chatMessage', (d) => d.message.text === 'room one only');
    await teacher.client.notification('chatMessage', (d) => d.message.text === 'room one only');
    await b2.client.ok('sendChat', { text: 'room two only' });
    await b1.client.notification('chatMessage', (d) => d.message.text === 'room two only');

    await teacher.client.ok('broadcastToBreakouts', { text: 'Five minutes left' });
    for (const person of [...groupA, ...groupB]) {
      expect(await person.client.notification('breakoutMessage')).toMatchObject({ text: 'Five minutes left', from: { displayName: 'Teacher' } });
    }
    expect(b1.client.received('chatMessage').map((d) => d.message.text)).toEqual(['room two only']);
    expect(a2.client.received('chatMessage').map((d) => d.message.text)).toEqual(['room one only']);

    await teacher.client.ok('visitBreakout', { group: 'main' });
    await expectReceives(teacher, []);
    for (const person of groupA) await expectReceives(person, groupA.filter((p) => p !== person));
    expect(await teacher.client.send('visitBreakout', { group: 'b9' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('someone joining during breakouts lands in the main room', async () => {
    const { teacher, students } = await classOfFive('late-101');
    await teacher.client.ok('startBreakouts', { rooms: 2 });
    const late = await enter('late-101', 'Eve', 'student');
    expect(await late.client.notification('breakoutState')).toMatchObject({ active: true, group: 'main' });
    await expectReceives(late, [teacher]);
    await expectReceives(teacher, [late]);
    for (const person of students) expect(consumersOnTransport(person.recvId).map((c) => c.producerId)).not.toContain(late.producers[0]);
  });
});

describe('by hand, permissions and schemas', () => {
  it('assigns by hand; those not listed stay in the main room', async () => {
    const { teacher, students } = await classOfFive('hand-101');
    const [ann, ben, cas, dee] = students as [Person, Person, Person, Person];
    const state = (await teacher.client.ok('startBreakouts', {
      rooms: 2,
      assignment: [
        { peerId: ann.peerId, room: 1 },
        { peerId: ben.peerId, room: 1 },
        { peerId: cas.peerId, room: 2 },
      ],
    })) as BreakoutState;
    expect(state.groups).toEqual([
      { id: 'b1', name: 'Room 1', peerIds: expect.arrayContaining([ann.peerId, ben.peerId]) },
      { id: 'b2', name: 'Room 2', peerIds: [cas.peerId] },
    ]);
    await expectReceives(ann, [ben]);
    await expectReceives(cas, []);
    await expectReceives(dee, [teacher]);
    expect(await teacher.client.send('startBreakouts', { rooms: 2 })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('refuses students, more rooms than participants, unknown people and unknown keys', async () => {
    const { teacher, students } = await classOfFive('refuse-101');
    const ann = students[0] as Person;
    expect(await ann.client.send('startBreakouts', { rooms: 2 })).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('breakout') } });
    expect(await ann.client.send('broadcastToBreakouts', { text: 'hi' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await ann.client.send('visitBreakout', { group: 'main' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await teacher.client.send('startBreakouts', { rooms: 5 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('4 participants') },
    });
    expect(await teacher.client.send('startBreakouts', { rooms: 2, assignment: [{ peerId: 'nobody', room: 1 }] })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: expect.stringContaining('assignment/0/peerId') },
    });
    expect(await teacher.client.send('startBreakouts', { rooms: 2, assignment: [{ peerId: ann.peerId, room: 3 }] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('assignment/0/room') },
    });
    expect(await teacher.client.sendUnchecked('startBreakouts', { rooms: 2, shuffle: true })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('shuffle') },
    });
    expect(await teacher.client.sendUnchecked('startBreakouts', { rooms: 51 })).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    expect(await teacher.client.send('endBreakouts', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
    // Nothing moved by any of the refused requests.
    for (const person of students) await expectReceives(person, [teacher, ...students].filter((p) => p !== person));
  });
});
