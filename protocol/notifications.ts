// Server-to-client notifications: things that happened in the room, pushed without a request.
import { Type, type Static } from '@sinclair/typebox';
import { ChatMessage, MediaKind, MediaSource, PeerInfo, Role, RoomPolicy } from './methods.js';
import { BreakoutMessage, BreakoutState, PollInfo, PollResults } from './activities.js';
import { RecordingState } from './recording.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });

/** Notification names and their data. */
export const Notifications = {
  /**
   * People who entered the room (sent `ready`) since the last such notification. Presence is
   * batched over a short window so a lecture's join storm is not one message per pair of people.
   */
  peersJoined: Type.Object({ peers: Type.Array(PeerInfo, { minItems: 1 }) }),
  /** People who left, were removed, or whose connection died, batched like peersJoined. */
  peersLeft: Type.Object({ peerIds: Type.Array(Id, { minItems: 1 }) }),
  /** A new consumer for you, created paused: set it up, then send `resumeConsumer`. */
  consumerAdded: Type.Object({
    consumerId: Id,
    producerId: Id,
    peerId: Id,
    kind: MediaKind,
    source: MediaSource,
    rtpParameters: Type.Record(Type.String(), Type.Unknown()),
    producerPaused: Type.Boolean(),
  }),
  /** The producer behind a consumer went away. */
  consumerClosed: Type.Object({ consumerId: Id }),
  /** The sender muted the track behind a consumer. */
  consumerPaused: Type.Object({ consumerId: Id }),
  /** The sender unmuted it. */
  consumerResumed: Type.Object({ consumerId: Id }),
  /** Someone's role, presenter status changed. */
  peerUpdated: Type.Object({ peer: PeerInfo }),
  /** (to admitters) Who is waiting in the lobby, in arrival order. */
  lobbyChanged: Type.Object({ waiting: Type.Array(Type.Object({ id: Id, displayName: Type.String(), role: Role })) }),
  /** (to a waiting participant) You are in: set up media now. */
  admitted: Type.Object({}),
  /** (to a waiting participant) You were turned away. */
  denied: Type.Object({ reason: Type.String() }),
  /** The room was locked/unlocked, its lobby or lecture mode turned on/off. */
  roomPolicy: RoomPolicy,
  /** A moderator muted one of your tracks; if canUnmute is false, raise your hand to ask. */
  moderatorMuted: Type.Object({ source: MediaSource, canUnmute: Type.Boolean() }),
  /** A moderator allowed you to unmute. */
  unmuteAllowed: Type.Object({}),
  /** You were removed from the class. */
  removed: Type.Object({ reason: Type.String() }),
  /** A chat message. */
  chatMessage: Type.Object({ message: ChatMessage }),
  /** Raised hands, first raised first. */
  handQueue: Type.Object({ peerIds: Type.Array(Id) }),
  /** Who is speaking now (null: nobody). */
  activeSpeaker: Type.Object({ peerId: Type.Union([Id, Type.Null()]) }),
  /**
   * Your media was reset by the server (its media worker restarted and the room moved to a live
   * one): your transports, tracks and consumers are gone; create new transports and send again.
   */
  mediaReset: Type.Object({ reason: Type.String() }),
  /**
   * This server is shutting down (one node of a cluster): join again, which lands on a live
   * server (the class moves there). Sent once, a while before the connection closes.
   */
  serverDraining: Type.Object({ reason: Type.String() }),
  /** The server is closing this room (shutdown, or its media worker died); the client should rejoin. */
  roomClosed: Type.Object({ reason: Type.String() }),
  /** An instructor asked a question (also sent to late joiners while it is open). */
  pollOpened: Type.Object({ poll: PollInfo }),
  /** A poll stopped taking answers. */
  pollClosed: Type.Object({ pollId: Id }),
  /** Results so far: live to instructors, and to everyone once shared. */
  pollResults: PollResults,
  /** Breakout rooms started, ended, or you were moved (or are visiting). */
  breakoutState: BreakoutState,
  /** Breakout rooms end soon: everyone returns to the main room in `secondsLeft`. */
  breakoutWarning: Type.Object({ secondsLeft: Type.Integer({ minimum: 0 }) }),
  /** A message an instructor broadcast to every room. */
  breakoutMessage: BreakoutMessage,
  /**
   * Recording started or stopped, or who is recorded changed. While `myConsent` is `pending` (or
   * `informed`) the client must show the notice until the participant answers.
   */
  recordingState: RecordingState,
} as const;

export type NotificationName = keyof typeof Notifications;
export type NotificationData<N extends NotificationName> = Static<(typeof Notifications)[N]>;
