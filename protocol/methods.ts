// Every signalling request a client can make: its data and its reply. One TypeBox schema per
// message is the runtime validator (server), the TypeScript type (server and client) and the doc.
// mediasoup's own parameter objects (RTP parameters, DTLS parameters, capabilities) are checked
// here for shape and size only; mediasoup validates their meaning and its errors become wire errors.
import { Type, type Static, type TSchema, type TObject, type TProperties } from '@sinclair/typebox';
import { BreakoutState, GroupId, MAX_BREAKOUT_ROOMS, MAX_POLL_OPTIONS, PollInfo, PollKind, PollOption, PollQuestion, PollResults, PollText } from './activities.js';
import { RecordingId, RecordingState, RetentionDays } from './recording.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
/** Opaque mediasoup object (RTP parameters etc.): must be a JSON object; mediasoup checks the rest. */
const MediasoupObject = Type.Record(Type.String(), Type.Unknown());

export const RoomName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
// No control characters: names end up in logs and other people's screens.
export const DisplayName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
export const MediaKind = Type.Union([Type.Literal('audio'), Type.Literal('video')]);
export const MediaSource = Type.Union([Type.Literal('microphone'), Type.Literal('camera'), Type.Literal('screen')]);
export const Direction = Type.Union([Type.Literal('send'), Type.Literal('recv')]);

export const IceServer = Type.Object({
  urls: Type.Array(Type.String()),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});

/** The ICE part of a join or renewIce reply. */
const IceOffer = {
  iceServers: Type.Array(IceServer),
  iceTransportPolicy: Type.Union([Type.Literal('all'), Type.Literal('relay')]),
  /**
   * Seconds from this reply until the TURN credential in `iceServers` stops opening relays; absent
   * without TURN. Relative, so a browser whose clock is wrong still renews in time.
   */
  iceServersTtlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
};

export const ProducerInfo = Type.Object({
  id: Id,
  kind: MediaKind,
  source: MediaSource,
  paused: Type.Boolean(),
});

export const Role = Type.Union([Type.Literal('instructor'), Type.Literal('student'), Type.Literal('guest')]);

export const PeerInfo = Type.Object({
  id: Id,
  displayName: DisplayName,
  role: Role,
  /** Made presenter by an instructor (may share a screen). */
  presenter: Type.Boolean(),
  producers: Type.Array(ProducerInfo),
});

export const ChatMessage = Type.Object({
  id: Type.Integer(),
  from: Type.Object({ id: Id, displayName: DisplayName }),
  text: Type.String(),
  /** Milliseconds since the epoch, server clock. */
  time: Type.Integer(),
});

export const RoomPolicy = Type.Object({
  locked: Type.Boolean(),
  lobby: Type.Boolean(),
  /** Students join muted and without camera, and open them only once an instructor allows them. */
  lectureMode: Type.Boolean(),
});
/** 32 random bytes, base64url: the bearer credential of `resume`. */
export const ResumeSecret = Type.String({ minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]+$' });
const Empty = Type.Object({}, { additionalProperties: false });
/** A request about one other participant, plus extra fields. */
function Peer(): TObject<{ peerId: typeof Id }>;
function Peer<T extends TProperties>(extra: T): TObject<{ peerId: typeof Id } & T>;
function Peer(extra: TProperties = {}) {
  return Type.Object({ peerId: Id, ...extra }, { additionalProperties: false });
}

function method<D extends TSchema, R extends TSchema>(data: D, reply: R) {
  return { data, reply };
}

/** The request methods, by name: `data` is what the client sends, `reply` what it gets back. */
export const Methods = {
  /** Enter a room. Must be the first request; the reply carries what the client needs to load its Device. */
  join: method(
    Type.Object(
      {
        room: RoomName,
        displayName: DisplayName,
        /** A signed room link token; without one the sign-in session cookie or guest access applies. */
        token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
      },
      { additionalProperties: false },
    ),
    Type.Object({
      peerId: Id,
      role: Role,
      permissions: Type.Array(Type.String()),
      /** False: waiting in the lobby until an instructor admits you (`admitted` notification). */
      admitted: Type.Boolean(),
      policy: RoomPolicy,
      routerRtpCapabilities: MediasoupObject,
      ...IceOffer,
      /** Bearer secret for `resume` after a dropped connection; replaced by every successful resume. */
      resumeSecret: ResumeSecret,
      /**
       * In a cluster: seconds after which a node that stopped answering has surely been dropped from
       * the registry (its TTL and one heartbeat), so the class has a new home. A page sent here
       * from another node goes back there after this long without its server (client Failover.ts).
       */
      failoverAfterSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    }),
  ),
  /**
   * A fresh TURN credential of my own (the one from `join` lasts `iceServersTtlSeconds`); the
   * client hands it to its transports before the old one expires, so a later ICE restart can still
   * allocate a relay.
   */
  renewIce: method(Empty, Type.Object(IceOffer)),
  /**
   * Take this participant back after the connection dropped, within the server's grace window:
   * same peer id, role, hand, lobby place and media; the others never see a leave or a join.
   * Refused with `resume_failed` when the participant is unknown, expired or the secret is wrong:
   * join again then. Also takes over from a connection that is still open (a half-dead socket).
   */
  resume: method(
    Type.Object({ room: RoomName, peerId: Id, secret: ResumeSecret }, { additionalProperties: false }),
    Type.Object({
      /** The next resume needs this one; the old secret no longer works. */
      resumeSecret: ResumeSecret,
      role: Role,
      permissions: Type.Array(Type.String()),
      admitted: Type.Boolean(),
      policy: RoomPolicy,
      ...IceOffer,
    }),
  ),
  /** New ICE credentials for one of my transports (its connection went disconnected or failed). */
  restartIce: method(
    Type.Object({ transportId: Id }, { additionalProperties: false }),
    Type.Object({ iceParameters: MediasoupObject }),
  ),
  /**
   * Close all my transports (so my tracks and what I receive) to start media over: the client then
   * creates new transports and sends its tracks again, and a new receive transport brings it a
   * consumer of every track in the room. Used when ICE restarts did not help.
   */
  resetMedia: method(Empty, Type.Object({})),
  /** Tell the server what this browser can decode; from then on it receives everybody's media. */
  ready: method(
    Type.Object({ rtpCapabilities: MediasoupObject }, { additionalProperties: false }),
    Type.Object({
      peers: Type.Array(PeerInfo),
      chat: Type.Array(ChatMessage),
      hands: Type.Array(Id),
      activeSpeaker: Type.Union([Id, Type.Null()]),
    }),
  ),
  /** Create a WebRTC transport for sending or receiving. */
  createTransport: method(
    Type.Object({ direction: Direction }, { additionalProperties: false }),
    Type.Object({
      id: Id,
      iceParameters: MediasoupObject,
      iceCandidates: Type.Array(MediasoupObject),
      dtlsParameters: MediasoupObject,
    }),
  ),
  /** Finish the DTLS handshake parameters of a transport. */
  connectTransport: method(
    Type.Object({ transportId: Id, dtlsParameters: MediasoupObject }, { additionalProperties: false }),
    Type.Object({}),
  ),
  /** Start sending a track. */
  produce: method(
    Type.Object(
      { transportId: Id, kind: MediaKind, source: MediaSource, rtpParameters: MediasoupObject },
      { additionalProperties: false },
    ),
    Type.Object({ producerId: Id }),
  ),
  /** Mute (pause) one of my producers. */
  pauseProducer: method(Type.Object({ producerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Unmute one of my producers. */
  resumeProducer: method(Type.Object({ producerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Stop sending a track for good. */
  closeProducer: method(Type.Object({ producerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Consumers start paused; the client resumes one once its track is wired up (no lost keyframe). */
  resumeConsumer: method(Type.Object({ consumerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Leave the room; the connection stays open and may join again. */
  leave: method(Empty, Type.Object({})),

  /** Write to everyone in the room. Kept in memory only, gone when the room closes. */
  sendChat: method(Type.Object({ text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }), Type.Object({ messageId: Type.Integer() })),
  /** Raise or lower my hand; instructors see the queue in order. */
  raiseHand: method(Type.Object({ raised: Type.Boolean() }, { additionalProperties: false }), Type.Object({})),
  /** Tell the server how large a video is shown, so it forwards the simulcast layer that fits. */
  setConsumerPreferences: method(
    Type.Object(
      { consumerId: Id, width: Type.Integer({ minimum: 0, maximum: 8192 }), height: Type.Integer({ minimum: 0, maximum: 8192 }) },
      { additionalProperties: false },
    ),
    Type.Object({ spatialLayer: Type.Integer() }),
  ),
  /**
   * Last N: the video tracks (producer ids) this client shows now, most important first. The server
   * keeps consumers only for these, at most `rooms.maxVideoConsumers` of them: consumers of tracks
   * off screen pause, and past the cap close (a `consumerClosed`); missing ones arrive as
   * `consumerAdded`. Before a client names its first view it receives every track, up to the cap.
   * The reply lists the tracks that will be sent.
   */
  setView: method(Type.Object({ video: Type.Array(Id, { maxItems: 100, uniqueItems: true }) }, { additionalProperties: false }), Type.Object({ video: Type.Array(Id) })),
  /** Low-bandwidth mode: stop receiving cameras, keep audio and slides. */
  setLowBandwidth: method(Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }), Type.Object({})),

  /** (admit) Let one waiting participant, or everyone waiting, into the class. */
  admit: method(
    Type.Union([Peer(), Type.Object({ all: Type.Literal(true) }, { additionalProperties: false })]),
    Type.Object({ admitted: Type.Integer() }),
  ),
  /** (admit) Turn a waiting participant away. */
  deny: method(Peer(), Type.Object({})),
  /** (admit) Lock the room or turn the lobby on or off. */
  setRoomPolicy: method(
    Type.Object({ locked: Type.Optional(Type.Boolean()), lobby: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    RoomPolicy,
  ),
  /** (moderate) Mute someone's microphone or stop their camera. */
  muteParticipant: method(
    Peer({ source: Type.Union([Type.Literal('microphone'), Type.Literal('camera'), Type.Literal('screen')]) }),
    Type.Object({}),
  ),
  /** (moderate) Mute every microphone but mine; with allowSelfUnmute false they must ask to unmute. */
  muteAll: method(Type.Object({ allowSelfUnmute: Type.Boolean() }, { additionalProperties: false }), Type.Object({ muted: Type.Integer() })),
  /**
   * (moderate) Turn lecture mode on or off. On: every student's microphone and camera are muted and
   * locked (they raise their hand; `allowUnmute` lets one speak); off: everyone may unmute again.
   */
  setLectureMode: method(Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }), RoomPolicy),
  /** (moderate) Let a participant muted by a moderator unmute again. */
  allowUnmute: method(Peer(), Type.Object({})),
  /** (moderate) Remove someone; they cannot rejoin this class with the same sign-in or link. */
  removeParticipant: method(Peer(), Type.Object({})),
  /** (moderate) Make a student the presenter, or take it back. */
  setPresenter: method(Peer({ presenter: Type.Boolean() }), Type.Object({})),
  /** (moderate) Lower someone's raised hand. */
  lowerHand: method(Peer(), Type.Object({})),
  /** (endClass) End the class for everyone. */
  endClass: method(Empty, Type.Object({})),

  /**
   * (poll) Ask the class a question. Anonymous unless `named` is true: students are told which
   * before they answer. With a time limit it closes by itself.
   */
  openPoll: method(
    Type.Object(
      {
        question: PollQuestion,
        kind: PollKind,
        /** Choices for single/multiple choice (2 to 10); none for yes/no and free text. */
        options: Type.Optional(Type.Array(PollOption, { maxItems: MAX_POLL_OPTIONS })),
        timeLimitSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
        named: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    Type.Object({ poll: PollInfo }),
  ),
  /** Answer a poll, once: option indexes for choice polls, `text` for free text. */
  answerPoll: method(
    Type.Object(
      {
        pollId: Id,
        choices: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: MAX_POLL_OPTIONS - 1 }), { minItems: 1, maxItems: MAX_POLL_OPTIONS, uniqueItems: true })),
        text: Type.Optional(PollText),
      },
      { additionalProperties: false },
    ),
    Type.Object({}),
  ),
  /** (poll) Stop taking answers; replies with the final results. */
  closePoll: method(Type.Object({ pollId: Id }, { additionalProperties: false }), PollResults),
  /** (poll) Show the results (without names) to everyone, now and as they change. */
  sharePollResults: method(Type.Object({ pollId: Id }, { additionalProperties: false }), Type.Object({})),
  /** (poll) The results as CSV, for the instructor to keep; the export is recorded in the audit log. */
  exportPoll: method(Type.Object({ pollId: Id }, { additionalProperties: false }), Type.Object({ filename: Type.String(), csv: Type.String() })),

  /**
   * (breakout) Split the class into breakout rooms: at random (every student, round robin) or by
   * hand (`assignment`; those not listed stay in the main room). With a duration, everyone is
   * brought back by itself. Instructors stay in the main room and may visit.
   */
  startBreakouts: method(
    Type.Object(
      {
        rooms: Type.Integer({ minimum: 1, maximum: MAX_BREAKOUT_ROOMS }),
        assignment: Type.Optional(
          Type.Array(Type.Object({ peerId: Id, room: Type.Integer({ minimum: 1, maximum: MAX_BREAKOUT_ROOMS }) }, { additionalProperties: false }), {
            maxItems: 5000,
          }),
        ),
        durationSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
      },
      { additionalProperties: false },
    ),
    BreakoutState,
  ),
  /** (breakout) Bring everyone back into the main room. */
  endBreakouts: method(Empty, Type.Object({})),
  /** (breakout) Join a breakout room (or `main`) to see and hear it, without moving anyone else. */
  visitBreakout: method(Type.Object({ group: GroupId }, { additionalProperties: false }), BreakoutState),
  /** (breakout) A message shown in every breakout room and the main room. */
  broadcastToBreakouts: method(
    Type.Object({ text: Type.String({ minLength: 1, maxLength: 1000, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }) }, { additionalProperties: false }),
    Type.Object({}),
  ),

  /**
   * (record) Start recording the class: everyone is told at once and asked for consent; only the
   * tracks of those who consent are recorded. `retentionDays` may shorten the server's retention.
   */
  startRecording: method(
    Type.Object(
      {
        retentionDays: Type.Optional(RetentionDays),
        /** Whether the room's students may play it (default: the server's `recording.studentPlayback`). */
        studentPlayback: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    Type.Object({ recordingId: RecordingId, startedAt: Type.Integer(), expiresAt: Type.Integer() }),
  ),
  /** (record) Stop the recording; its files are closed and kept until their retention ends. */
  stopRecording: method(Empty, Type.Object({ recordingId: RecordingId })),
  /** My answer to the recording notice; may be changed at any time while recording. */
  recordingConsent: method(Type.Object({ consent: Type.Boolean() }, { additionalProperties: false }), RecordingState),
} as const;

export type MethodName = keyof typeof Methods;
export type RequestData<M extends MethodName> = Static<(typeof Methods)[M]['data']>;
export type ReplyData<M extends MethodName> = Static<(typeof Methods)[M]['reply']>;
export type PeerInfo = Static<typeof PeerInfo>;
export type ChatMessage = Static<typeof ChatMessage>;
export type RoomPolicy = Static<typeof RoomPolicy>;
export type Role = Static<typeof Role>;
export type ProducerInfo = Static<typeof ProducerInfo>;
export type MediaSource = Static<typeof MediaSource>;
export type MediaKind = Static<typeof MediaKind>;
