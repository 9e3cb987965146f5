// The authorization matrix: every signalling method, called by every kind of caller, against a
// real server. The expected table is written out here by hand (not derived from the server's own
// table), so a change in who may do what has to be made in two places on purpose.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Methods, type MethodName } from '../../protocol/index.js';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { startLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { clientDtls, opusParameters, vp8Parameters } from '../helpers/media.js';

const TOKEN_SECRET = 'matrix-test-secret-of-at-least-32-bytes!!';
const server = lecternForFile({
  auth: { tokenSecret: TOKEN_SECRET, guests: { enabled: true, role: 'guest' } },
  signalling: { maxRequestsPerSecond: 1000 },
});
const connect = (): Promise<SignallingClient> => server.connect();

type Caller = 'instructor' | 'student' | 'guest' | 'not joined' | 'in lobby';
type Action = MethodName | 'produce:microphone' | 'produce:camera' | 'produce:screen';

/** What a student and a guest may do by default; everything else is instructor-only. */
const PARTICIPANT_ACTIONS: Action[] = [
  'join', 'leave', 'renewIce', 'ready', 'createTransport', 'connectTransport', 'resumeConsumer', 'setConsumerPreferences',
  'setLowBandwidth', 'setView', 'pauseProducer', 'resumeProducer', 'closeProducer', 'produce:microphone', 'produce:camera',
  'sendChat', 'raiseHand', 'answerPoll', 'restartIce', 'resetMedia', 'recordingConsent',
];
const ALL_ACTIONS: Action[] = [
  ...PARTICIPANT_ACTIONS, 'resume', 'produce:screen', 'admit', 'deny', 'setRoomPolicy', 'muteParticipant', 'muteAll', 'allowUnmute', 'setLectureMode',
  'removeParticipant', 'setPresenter', 'lowerHand', 'openPoll', 'closePoll', 'sharePollResults', 'exportPoll', 'startBreakouts',
  'visitBreakout', 'broadcastToBreakouts', 'endBreakouts', 'startRecording', 'stopRecording', 'endClass',
];

/** The code a caller must get, or 'allowed' (any reply that is not a refusal of the caller). */
function expected(caller: Caller, action: Action): 'allowed' | 'forbidden' | 'not_joined' | 'in_lobby' | 'already_joined' {
  // resume is a way in like join: anyone may try (the secret decides), nobody already in may.
  if (caller === 'not joined') return action === 'join' || action === 'resume' ? 'allowed' : 'not_joined';
  if (action === 'join' || action === 'resume') return 'already_joined';
  if (caller === 'in lobby') return action === 'leave' || action === 'renewIce' ? 'allowed' : 'in_lobby';
  if (caller === 'instructor') return 'allowed';
  return PARTICIPANT_ACTIONS.includes(action) ? 'allowed' : 'forbidden';
}

async function token(role: string, room: string): Promise<string> {
  return server.lectern.authenticator.issueRoomToken({ room, role: role as 'student', subject: `${role}-${room}` });
}

/** A joined, ready participant with send/recv transports. */
async function participant(room: string, role: 'instructor' | 'student' | 'guest') {
  const client = await connect();
  const joined = await client.ok('join', { room, displayName: role, ...(role === 'guest' ? {} : { token: await token(role, room) }) });
  const send = await client.ok('createTransport', { direction: 'send' });
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  return { client, peerId: joined.peerId as string, sendId: send.id as string };
}

/** Request data for an action, pointed at real ids where the method needs them. */
function requestFor(action: Action, ids: { sendId: string; targetId: string }): [string, unknown] {
  const data: Record<string, unknown> = {
    join: { room: 'elsewhere', displayName: 'again' },
    leave: {},
    renewIce: {},
    resume: { room: 'elsewhere', peerId: 'missing', secret: 'a'.repeat(43) },
    restartIce: { transportId: ids.sendId },
    resetMedia: {},
    ready: { rtpCapabilities: {} },
    createTransport: { direction: 'recv' },
    connectTransport: { transportId: ids.sendId, dtlsParameters: clientDtls },
    resumeConsumer: { consumerId: 'missing' },
    setConsumerPreferences: { consumerId: 'missing', width: 320, height: 180 },
    setLowBandwidth: { enabled: false },
    setView: { video: [] },
    pauseProducer: { producerId: 'missing' },
    resumeProducer: { producerId: 'missing' },
    closeProducer: { producerId: 'missing' },
    sendChat: { text: 'hello' },
    raiseHand: { raised: true },
    admit: { all: true },
    deny: { peerId: ids.targetId },
    setRoomPolicy: { lobby: false },
    muteParticipant: { peerId: ids.targetId, source: 'microphone' },
    muteAll: { allowSelfUnmute: true },
    allowUnmute: { peerId: ids.targetId },
    setLectureMode: { enabled: false },
    setPresenter: { peerId: ids.targetId, presenter: true },
    lowerHand: { peerId: ids.targetId },
    removeParticipant: { peerId: ids.targetId },
    endClass: {},
    openPoll: { question: 'Ready?', kind: 'yesno' },
    answerPoll: { pollId: 'missing', choices: [0] },
    closePoll: { pollId: 'missing' },
    sharePollResults: { pollId: 'missing' },
    exportPoll: { pollId: 'missing' },
    startBreakouts: { rooms: 1 },
    visitBreakout: { group: 'main' },
    broadcastToBreakouts: { text: 'back in five' },
    endBreakouts: {},
    startRecording: {},
    stopRecording: {},
    recordingConsent: { consent: true },
  };
  if (action.startsWith('produce:')) {
    const source = action.slice('produce:'.length);
    const kind = source === 'microphone' ? 'audio' : 'video';
    return ['produce', { transportId: ids.sendId, kind, source, rtpParameters: kind === 'audio' ? opusParameters() : vp8Parameters() }];
  }
  return [action, data[action]];
}

const REFUSALS = new Set(['forbidden', 'not_joined', 'in_lobby', 'already_joined', 'unauthorized']);
const results: string[] = [];

describe('authorization matrix', () => {
  for (const caller of ['instructor', 'student', 'guest', 'not joined', 'in lobby'] as Caller[]) {
    it(`${caller}: every method`, async () => {
      const room = `matrix-${caller.replace(' ', '-')}`;
      const host = await participant(room, 'instructor');
      const target = await participant(room, 'student');
      let actor: { client: SignallingClient; sendId: string };
      if (caller === 'not joined') actor = { client: await connect(), sendId: 'none' };
      else if (caller === 'in lobby') {
        await host.client.ok('setRoomPolicy', { lobby: true });
        const client = await connect();
        const joined = await client.ok('join', { room, displayName: 'waiting', token: await token('student', room) });
        expect(joined.admitted).toBe(false);
        actor = { client, sendId: 'none' };
      } else actor = caller === 'instructor' ? host : await participant(room, caller);

      // endClass and leave last: both end the caller's membership. Someone not joined tries join
      // last too, since a successful join would make them a member for the rest.
      const middle = ALL_ACTIONS.filter((a) => a !== 'join' && a !== 'leave' && a !== 'endClass');
      const order: Action[] = caller === 'not joined' ? [...middle, 'endClass', 'leave', 'join'] : ['join', ...middle, 'endClass', 'leave'];
      for (const action of order) {
        const [method, data] = requestFor(action, { sendId: actor.sendId, targetId: target.peerId });
        const reply = await actor.client.sendUnchecked(method, data);
        // already_joined refuses a caller only for join and resume; for ready it is a sequencing error.
        const refused = !reply.ok && REFUSALS.has(reply.error.code) && (reply.error.code !== 'already_joined' || action === 'join' || action === 'resume');
        const got = reply.ok || !refused ? 'allowed' : reply.error.code;
        // The instructor's endClass one step earlier closed the room, so there is nothing to leave.
        const want = caller === 'instructor' && action === 'leave' ? 'not_joined' : expected(caller, action);
        results.push(`${caller} ${action}: ${got}`);
        expect(`${action}: ${got}`).toBe(`${action}: ${want}`);
        if (!reply.ok && got === 'forbidden') expect(reply.error.message).toMatch(/may not/);
      }
    });
  }

  it('instructor endClass ends the class for everyone', async () => {
    const room = 'matrix-end';
    const host = await participant(room, 'instructor');
    const student = await participant(room, 'student');
    expect(await host.client.send('endClass', {})).toMatchObject({ ok: true });
    expect(await student.client.notification('roomClosed')).toEqual({ reason: 'the instructor ended the class' });
    expect(await student.client.send('sendChat', { text: 'anyone?' })).toMatchObject({ ok: false, error: { code: 'not_joined' } });
  });

  it('covers every method of the protocol', () => {
    const methods = new Set(ALL_ACTIONS.map((a) => a.split(':')[0]));
    expect([...methods].sort()).toEqual(Object.keys(Methods).sort());
    console.log(`authorization matrix: ${results.length} checks`);
  });
});

describe('tokens', () => {
  const secret = new TextEncoder().encode(TOKEN_SECRET);
  const sign = (claims: Record<string, unknown>, options: { exp?: number; iss?: string; aud?: string } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(options.iss ?? 'lectern')
      .setAudience(options.aud ?? 'lectern')
      .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600)
      .sign(secret);

  it.each([
    ['expired', () => sign({ role: 'instructor', room: 'tok' }, { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['for another room', () => sign({ role: 'instructor', room: 'other' }), /another room/],
    ['from another issuer', () => sign({ role: 'instructor', room: 'tok' }, { iss: 'evil' }), /trusted issuer/],
    ['for another audience', () => sign({ role: 'instructor', room: 'tok' }, { aud: 'evil' }), /.+/],
    ['forged (signature altered)', async () => {
      const good = await sign({ role: 'instructor', room: 'tok' });
      return good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    }, /.+/],
    ['unsigned (alg none)', async () => {
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${b64({ alg: 'none' })}.${b64({ role: 'instructor', room: 'tok', iss: 'lectern', aud: 'lectern', exp: 9999999999 })}.`;
    }, /.+/],
    ['with an unknown role', () => sign({ role: 'admin', room: 'tok' }), /role/],
  ])('refuses a token %s', async (_label, make, message) => {
    const client = await connect();
    const reply = await client.send('join', { room: 'tok', displayName: 'Mallory', token: await make() });
    expect(reply).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringMatching(message) } });
  });

  it('refuses joins without token or sign-in when guests are off', async () => {
    const strict = await startLectern({ auth: { guests: { enabled: false } } });
    try {
      const client = await SignallingClient.connect(strict.wsUrl);
      expect(await client.send('join', { room: 'closed', displayName: 'x' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      client.close();
    } finally {
      await strict.close();
    }
  });
});
