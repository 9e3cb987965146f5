// One track as one subscriber receives it: a handle by id. For a browser it is a mediasoup consumer
// on its receive transport; the id is what the client names in resume/pause/prefer-layer requests.
import type { types } from 'mediasoup';
import type { TrackConsumer, TrackKind, TrackSource } from './Track.js';

/** What a subscription reads of its consumer: a mediasoup consumer, or one on an edge node (EdgePeerMedia). */
export type SubscribedConsumer = Pick<TrackConsumer, 'id' | 'producerId' | 'appData' | 'kind' | 'paused' | 'producerPaused' | 'closed' | 'rtpParameters'>;

/** A track a subscriber receives. */
export class Subscription {
  /** The subscription's id (a browser's consumer id). */
  readonly id: string;
  /** The track received. */
  readonly trackId: string;
  /** Who publishes that track. */
  readonly peerId: string;
  /** Audio or video. */
  readonly kind: TrackKind;
  /** Microphone, camera or screen. */
  readonly source: TrackSource;
  readonly #consumer: SubscribedConsumer;

  /** Wrap a consumer; done by the subscriber that created it. */
  constructor(consumer: SubscribedConsumer) {
    this.id = consumer.id;
    this.trackId = consumer.producerId;
    this.peerId = consumer.appData.peerId;
    this.kind = consumer.kind;
    this.source = consumer.appData.source;
    this.#consumer = consumer;
  }

  /** Whether this subscriber paused it (hidden tile, low bandwidth, not yet set up). */
  get paused(): boolean {
    return this.#consumer.paused;
  }

  /** Whether the publisher muted the track. */
  get producerPaused(): boolean {
    return this.#consumer.producerPaused;
  }

  /** Whether it has ended (unsubscribed, track ended, or the subscriber's transport closed). */
  get closed(): boolean {
    return this.#consumer.closed;
  }

  /** How the track is sent to this subscriber (codec, SSRCs), for the client to receive it. */
  get rtpParameters(): types.RtpParameters {
    return this.#consumer.rtpParameters;
  }
}
