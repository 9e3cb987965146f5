// Recording a class on the wire: the state everyone is shown, and the playback API's shapes.
import { Type, type Static } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64 });

/** A recording id: a random UUID. */
export const RecordingId = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
export const ConsentPolicy = Type.Union([Type.Literal('ask'), Type.Literal('inform')]);
/**
 * Where one participant stands: `pending` (asked, no answer: not recorded), `consented`,
 * `declined` (not recorded), `informed` (inform policy: told, recorded unless they decline).
 */
export const ConsentStatus = Type.Union([Type.Literal('pending'), Type.Literal('consented'), Type.Literal('declined'), Type.Literal('informed')]);

/** Whether the class is being recorded, and who is in the recording. Sent to everyone at every change. */
export const RecordingState = Type.Object({
  recording: Type.Boolean(),
  recordingId: Type.Union([RecordingId, Type.Null()]),
  /** Milliseconds since the epoch, server clock. */
  startedAt: Type.Union([Type.Integer(), Type.Null()]),
  policy: ConsentPolicy,
  /** Participants whose tracks go into the recording. */
  recordedPeerIds: Type.Array(Id),
  /** The recipient's own standing; null when nothing is being recorded. */
  myConsent: Type.Union([ConsentStatus, Type.Null()]),
});

/** Days a recording is kept; the server's configured retention is the ceiling. */
export const RetentionDays = Type.Integer({ minimum: 1, maximum: 3653 });

/** One recording as the playback API lists it. */
export const RecordingSummary = Type.Object({
  id: RecordingId,
  room: Type.String(),
  startedAt: Type.Integer(),
  stoppedAt: Type.Union([Type.Integer(), Type.Null()]),
  expiresAt: Type.Integer(),
  tracks: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.Union([Type.Literal('audio'), Type.Literal('video')]),
      source: Type.Union([Type.Literal('microphone'), Type.Literal('camera'), Type.Literal('screen')]),
      /** Pseudonymous label of the sender within this recording ("participant 2"); never a name. */
      participant: Type.String(),
      /** Whether this is the presenter's (an instructor's, or the screen share's) track. */
      presenter: Type.Boolean(),
      contentType: Type.String(),
      size: Type.Integer(),
      /** Milliseconds from the recording's start to this track's first media. */
      offsetMs: Type.Integer(),
    }),
  ),
});

/** One line of a recording's events file: what happened, relative to the recording's start. */
export const RecordingEvent = Type.Object({
  /** Milliseconds since the recording started. */
  at: Type.Integer(),
  type: Type.Union(
    ['started', 'stopped', 'joined', 'left', 'speaker', 'screenShareStarted', 'screenShareStopped', 'consent', 'trackStarted', 'trackEnded', 'recorderError'].map((t) =>
      Type.Literal(t),
    ),
  ),
  /** Pseudonymous participant label within this recording, when the event is about one. */
  participant: Type.Optional(Type.String()),
  /** For consent events: the new standing. */
  consent: Type.Optional(ConsentStatus),
  /** For track events: the track id. */
  track: Type.Optional(Type.String()),
  /** For trackStarted: whether the track is the presenter's (an instructor's, or a screen share). */
  presenter: Type.Optional(Type.Boolean()),
});

export type RecordingStateData = Static<typeof RecordingState>;
export type ConsentStatusValue = Static<typeof ConsentStatus>;
export type RecordingSummaryData = Static<typeof RecordingSummary>;
export type RecordingEventData = Static<typeof RecordingEvent>;
