// A published track as the rest of Lectern sees it: a handle by id with who sends it and what it is.
// The mediasoup producer behind it stays inside sfu/ (trackProducer is not exported from index.ts),
// so the server can name, list and pause tracks but never reach into a worker object or its appData.
import type { types } from 'mediasoup';

/** Where a track comes from; receivers label tiles with it. */
export type TrackSource = 'microphone' | 'camera' | 'screen';

/** Audio or video. */
export type TrackKind = 'audio' | 'video';

/** How many tracks of each kind a subscriber may receive in a room (for load estimates). */
export type TrackCounts = { audio: number; video: number };

/** What sfu/ records on every producer and on the consumers that mirror it. */
export type TrackAppData = { source: TrackSource; peerId: string };
/** A producer carrying Lectern's track data (sfu-internal). */
export type TrackProducer = types.Producer<TrackAppData>;
/** A consumer carrying the data of the producer it mirrors (sfu-internal). */
export type TrackConsumer = types.Consumer<TrackAppData>;

const producers = new WeakMap<Track, TrackProducer>();

/** A track someone publishes in a room. Its id is the same on every router the room spans. */
export class Track {
  /** The track's id (the mediasoup producer id, kept by every pipe). */
  readonly id: string;
  /** Who publishes it. */
  readonly peerId: string;
  /** Audio or video. */
  readonly kind: TrackKind;
  /** Microphone, camera or screen. */
  readonly source: TrackSource;
  readonly #producer: TrackProducer;

  /** Wrap a producer; done by PeerMedia when a client publishes. */
  constructor(producer: TrackProducer) {
    this.id = producer.id;
    this.peerId = producer.appData.peerId;
    this.kind = producer.kind;
    this.source = producer.appData.source;
    this.#producer = producer;
    producers.set(this, producer);
  }

  /** Whether the publisher muted it. */
  get paused(): boolean {
    return this.#producer.paused;
  }

  /** Whether it has ended. */
  get closed(): boolean {
    return this.#producer.closed;
  }
}

/** The producer behind a track, for sfu/ alone (piping, observers, pausing). */
export function trackProducer(track: Track): TrackProducer {
  return producers.get(track)!;
}
