// Server-to-client notifications: things that happened in the room, pushed without a request.
import { Type, type Static } from '@sinclair/typebox';
import { MediaKind, MediaSource, PeerInfo } from './methods.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });

/** Notification names and their data. */
export const Notifications = {
  /** Someone entered the room (after they sent `ready`). */
  peerJoined: Type.Object({ peer: PeerInfo }),
  /** Someone left, was disconnected, or their connection died. */
  peerLeft: Type.Object({ peerId: Id }),
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
  /** The server is closing this room (shutdown, or its media worker died); the client should rejoin. */
  roomClosed: Type.Object({ reason: Type.String() }),
} as const;

export type NotificationName = keyof typeof Notifications;
export type NotificationData<N extends NotificationName> = Static<(typeof Notifications)[N]>;
