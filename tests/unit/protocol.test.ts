import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { Methods, RequestFrame, RequestEnvelope, ResponseFrame, NotificationFrame } from '../../protocol/index.js';

describe('protocol schemas', () => {
  it('accepts a well-formed request for every method', () => {
    const samples: Record<keyof typeof Methods, unknown> = {
      join: { room: 'physics-101', displayName: 'Ada Lovelace' },
      ready: { rtpCapabilities: { codecs: [] } },
      createTransport: { direction: 'send' },
      connectTransport: { transportId: 't1', dtlsParameters: { role: 'client', fingerprints: [] } },
      produce: { transportId: 't1', kind: 'audio', source: 'microphone', rtpParameters: { codecs: [] } },
      pauseProducer: { producerId: 'p1' },
      resumeProducer: { producerId: 'p1' },
      closeProducer: { producerId: 'p1' },
      resumeConsumer: { consumerId: 'c1' },
      leave: {},
      renewIce: {},
      resume: { room: 'physics-101', peerId: 'p1', secret: 'a'.repeat(43) },
      restartIce: { transportId: 't1' },
      resetMedia: {},
      sendChat: { text: 'hello' },
      raiseHand: { raised: true },
      setConsumerPreferences: { consumerId: 'c1', width: 320, height: 180 },
      setLowBandwidth: { enabled: true },
      setView: { video: ['a-track-id'] },
      admit: { all: true },
      deny: { peerId: 'p2' },
      setRoomPolicy: { locked: true },
      muteParticipant: { peerId: 'p2', source: 'microphone' },
      muteAll: { allowSelfUnmute: false },
      allowUnmute: { peerId: 'p2' },
      setLectureMode: { enabled: true },
      removeParticipant: { peerId: 'p2' },
      setPresenter: { peerId: 'p2', presenter: true },
      lowerHand: { peerId: 'p2' },
      endClass: {},
      openPoll: { question: 'Which?', kind: 'single', options: ['A', 'B'], timeLimitSeconds: 60 },
      answerPoll: { pollId: 'p1', choices: [0] },
      closePoll: { pollId: 'p1' },
      sharePollResults: { pollId: 'p1' },
      exportPoll: { pollId: 'p1' },
      startBreakouts: { rooms: 2, durationSeconds: 600 },
      endBreakouts: {},
      visitBreakout: { group: 'b2' },
      broadcastToBreakouts: { text: 'Two minutes left' },
      startRecording: { retentionDays: 7 },
      stopRecording: {},
      recordingConsent: { consent: true },
    };
    for (const [method, data] of Object.entries(samples)) {
      expect(Value.Check(RequestFrame, { kind: 'request', id: 1, method, data }), method).toBe(true);
    }
  });

  it.each([
    ['room name with a slash', 'join', { room: 'a/b', displayName: 'x' }],
    ['room name too long', 'join', { room: 'a'.repeat(65), displayName: 'x' }],
    ['empty display name', 'join', { room: 'r', displayName: '' }],
    ['control characters in a name', 'join', { room: 'r', displayName: 'bad\u0007name' }],
    ['extra key', 'join', { room: 'r', displayName: 'x', role: 'instructor' }],
    ['bad direction', 'createTransport', { direction: 'both' }],
    ['kind not audio/video', 'produce', { transportId: 't', kind: 'data', source: 'camera', rtpParameters: {} }],
    ['rtpParameters not an object', 'produce', { transportId: 't', kind: 'video', source: 'camera', rtpParameters: 'x' }],
    ['missing id', 'resumeConsumer', {}],
    ['empty chat', 'sendChat', { text: '' }],
    ['chat too long', 'sendChat', { text: 'x'.repeat(2001) }],
    ['admit with neither peer nor all', 'admit', {}],
    ['admit all: false', 'admit', { all: false }],
    ['token too long', 'join', { room: 'r', displayName: 'x', token: 'x'.repeat(5000) }],
    ['poll with eleven options', 'openPoll', { question: 'q', kind: 'single', options: 'abcdefghijk'.split('') }],
    ['poll question too long', 'openPoll', { question: 'q'.repeat(501), kind: 'text' }],
    ['poll of an unknown kind', 'openPoll', { question: 'q', kind: 'ranking' }],
    ['the same choice twice', 'answerPoll', { pollId: 'p', choices: [1, 1] }],
    ['an answer with an extra key', 'answerPoll', { pollId: 'p', text: 'x', voter: 'me' }],
    ['zero breakout rooms', 'startBreakouts', { rooms: 0 }],
    ['a made-up group id', 'visitBreakout', { group: 'lounge' }],
  ])('rejects %s', (_label, method, data) => {
    expect(Value.Check(RequestFrame, { kind: 'request', id: 1, method, data })).toBe(false);
  });

  it('rejects envelopes with bad ids or unknown keys', () => {
    expect(Value.Check(RequestEnvelope, { kind: 'request', id: -1, method: 'leave', data: {} })).toBe(false);
    expect(Value.Check(RequestEnvelope, { kind: 'request', id: 1.5, method: 'leave', data: {} })).toBe(false);
    expect(Value.Check(RequestEnvelope, { kind: 'request', id: 1, method: 'leave', data: {}, extra: 1 })).toBe(false);
    expect(Value.Check(RequestEnvelope, { kind: 'response', id: 1, method: 'leave', data: {} })).toBe(false);
  });

  it('describes server frames', () => {
    expect(Value.Check(ResponseFrame, { kind: 'response', id: 3, ok: true, data: {} })).toBe(true);
    expect(Value.Check(ResponseFrame, { kind: 'response', id: null, ok: false, error: { code: 'bad_frame', message: 'x' } })).toBe(true);
    expect(Value.Check(ResponseFrame, { kind: 'response', id: 3, ok: false, error: { code: 'made_up', message: 'x' } })).toBe(false);
    expect(Value.Check(NotificationFrame, { kind: 'notification', method: 'peersLeft', data: { peerIds: ['p'] } })).toBe(true);
    expect(Value.Check(NotificationFrame, { kind: 'notification', method: 'peersLeft', data: { peerIds: [] } })).toBe(false);
  });
});
