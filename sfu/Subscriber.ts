// The one shape of everything that receives a room's tracks: a browser peer (PeerMedia), a plain
// RTP receiver (PlainSubscriber), the room's recorder (RecordingSubscriber), a remote node tomorrow
// (Galène's `Client` interface, whose disk recorder is one more client). The room's fan-out (FanOut) decides which tracks each subscriber gets and calls these
// methods; a subscriber never decides by itself whom it may receive.
import type { TypedEmitter } from './TypedEmitter.js';
import type { Subscription } from './Subscription.js';
import type { Track, TrackCounts } from './Track.js';

/** Events every subscriber emits. */
export type SubscriberEvents = {
  /** A subscription ended: unsubscribed, its track ended, or the subscriber's transport closed. */
  unsubscribed: [subscription: Subscription];
  /** The publisher muted the track behind a subscription. */
  trackPaused: [subscription: Subscription];
  /** ...and unmuted it. */
  trackResumed: [subscription: Subscription];
  /** The subscriber is gone. Emitted once. */
  close: [];
};

/** Anything that receives tracks in a room. */
export interface Subscriber extends TypedEmitter<SubscriberEvents> {
  /** Unique in its room (a browser's peer id). */
  readonly id: string;
  /** Whether it can receive now (a browser: after `ready`, with a receive transport). */
  readonly receiving: boolean;
  /** Whether it is closed. */
  readonly closed: boolean;
  /** Its live subscriptions by id. */
  readonly subscriptions: ReadonlyMap<string, Subscription>;
  /**
   * How many subscriptions it will hold in a room with `tracks` tracks it may receive: what
   * placement and admission count for it before its subscriptions exist (its own caps applied).
   */
  expectedSubscriptions(tracks: TrackCounts): number;
  /** Whether it takes this track now (a browser: video only in its view and under its cap). */
  wants(track: Track): boolean;
  /** Whether it receives `trackId`, or a subscription to it is being made. */
  subscribes(trackId: string): boolean;
  /**
   * Start receiving a track, paused: the subscriber resumes it once it is set up (a browser attaches
   * the track first and asks for a keyframe on resume). The track must be on this subscriber's
   * router already; the room pipes it there first.
   */
  subscribe(track: Track): Promise<Subscription>;
  /** Stop receiving. */
  unsubscribe(subscriptionId: string): void;
  /** Stop media on a subscription without ending it (hidden tile, low bandwidth). */
  pause(subscriptionId: string): Promise<void>;
  /** Let media flow again. */
  resume(subscriptionId: string): Promise<void>;
  /**
   * Cap a simulcast subscription at the layer that fits a tile `height` pixels high; returns the
   * chosen spatial layer (0 for a track that has one layer).
   */
  preferLayer(subscriptionId: string, height: number): Promise<number>;
}
