// The recorder as one more subscriber of the media plane: a room's recorder is "a subscriber that
// wants these tracks" (the ones the server names, by consent), placed and counted on one of the
// room's routers like a browser, each track it wants received on its own tap (a PlainTransport on
// 127.0.0.1 relayed to that track's muxer, PlainTap). The audience rule does not apply to it: the
// server names each track it records, and the recorder takes no other.
import { TypedEmitter } from '../TypedEmitter.js';
import { SfuError } from '../SfuError.js';
import { Subscription } from '../Subscription.js';
import { trackProducer, type Track, type TrackCounts } from '../Track.js';
import type { Subscriber, SubscriberEvents } from '../Subscriber.js';
import type { RoomRouter } from '../RoomRouter.js';
import { countedConsumer } from '../countedConsumer.js';
import { PlainTap } from './PlainTap.js';

/** A room's recorder: one tap per recorded track. */
export class RecordingSubscriber extends TypedEmitter<SubscriberEvents> implements Subscriber {
  /** Unique in its room (no participant id looks like it). */
  readonly id: string;
  /** Plain transports into the muxer: no bandwidth estimator. */
  readonly estimatesBandwidth = false;
  readonly #place: () => Promise<RoomRouter>;
  #placing: Promise<RoomRouter> | undefined;
  #host: RoomRouter | undefined;
  /** Tracks it was asked to record. */
  readonly #wanted = new Set<string>();
  readonly #subscriptions = new Map<string, Subscription>();
  /** Taps by subscription id. */
  readonly #taps = new Map<string, PlainTap>();
  readonly #subscribedTracks = new Set<string>();
  #closed = false;

  /** Made by RoomMedia; not created directly. */
  constructor(id: string, place: () => Promise<RoomRouter>) {
    super();
    this.id = id;
    this.#place = place;
  }

  /** Be placed on one of the room's routers (once). */
  async placed(): Promise<RoomRouter> {
    this.#placing ??= this.#place().then((host) => {
      this.#host = host;
      if (this.#closed) host.placed.delete(this);
      return host;
    });
    return this.#placing;
  }

  /** The router it is placed on, once placed. */
  get placement(): RoomRouter | undefined {
    return this.#host;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Once placed. */
  get receiving(): boolean {
    return this.#host !== undefined && !this.#closed;
  }

  /** Its live subscriptions (one per recorded track) by id. */
  get subscriptions(): ReadonlyMap<string, Subscription> {
    return this.#subscriptions;
  }

  /** Record `trackId` from now on (RoomMedia.tap then subscribes it). */
  want(trackId: string): void {
    this.#wanted.add(trackId);
  }

  /** One consumer per track it records. */
  expectedSubscriptions(_tracks: TrackCounts): number {
    return Math.max(this.#wanted.size, this.#subscribedTracks.size);
  }

  /** Only the tracks it was asked to record. */
  wants(track: Track): boolean {
    return this.#wanted.has(track.id);
  }

  /** Whether it records `trackId`, or its tap is being opened. */
  subscribes(trackId: string): boolean {
    return this.#subscribedTracks.has(trackId);
  }

  /** The open tap on a track, if it records it. */
  tapOf(trackId: string): PlainTap | undefined {
    for (const tap of this.#taps.values()) if (tap.producer.id === trackId && !tap.closed) return tap;
    return undefined;
  }

  /** Open a tap on the track (paused: the recorder resumes it when its muxer listens). */
  async subscribe(track: Track): Promise<Subscription> {
    if (this.#closed) throw new SfuError('closed', 'the recorder is closed');
    const router = this.#host?.router;
    if (!router) throw new SfuError('no_recv_transport', 'the recorder is not placed yet');
    if (this.#subscribedTracks.has(track.id)) throw new SfuError('rejected', `already recording track ${track.id}`);
    const tap = await countedConsumer(this.#host!.host, this.#subscribedTracks, track.id, () => PlainTap.create(router, trackProducer(track)), (made) => made.consumer);
    const subscription = new Subscription(tap.consumer);
    this.#subscriptions.set(subscription.id, subscription);
    this.#taps.set(subscription.id, tap);
    tap.consumer.on('producerpause', () => this.emit('trackPaused', subscription));
    tap.consumer.on('producerresume', () => this.emit('trackResumed', subscription));
    tap.consumer.observer.once('close', () => {
      this.#subscriptions.delete(subscription.id);
      this.#taps.delete(subscription.id);
      this.#wanted.delete(track.id); // a track that ended never comes back under the same id
      this.emit('unsubscribed', subscription);
    });
    if (this.#closed) {
      tap.close();
      throw new SfuError('closed', 'the recorder closed while opening a tap');
    }
    return subscription;
  }

  /** Stop recording a track (close its tap). */
  unsubscribe(subscriptionId: string): void {
    this.#tap(subscriptionId).close();
  }

  /** Pause a tap's consumer. */
  async pause(subscriptionId: string): Promise<void> {
    await this.#tap(subscriptionId).consumer.pause();
  }

  /** Resume a tap's consumer. */
  async resume(subscriptionId: string): Promise<void> {
    await this.#tap(subscriptionId).consumer.resume();
  }

  /** A recording keeps every layer it gets: nothing to prefer. */
  async preferLayer(): Promise<number> {
    return 0;
  }

  /**
   * Close its taps and leave the router. Idempotent; emits `close` once. When the room's routers
   * close first (the class ended, a worker died: RoomMedia closes the recorder after them), each
   * tap has already learnt why from its router and left, so its recorder reports that reason
   * (room-closed, worker-died) rather than a plain close.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const tap of [...this.#taps.values()]) tap.close();
    this.#host?.placed.delete(this);
    this.emit('close');
  }

  #tap(subscriptionId: string): PlainTap {
    const tap = this.#taps.get(subscriptionId);
    if (!tap || this.#closed) throw new SfuError('not_found', `no recording subscription ${subscriptionId}`);
    return tap;
  }
}
