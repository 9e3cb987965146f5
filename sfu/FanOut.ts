// Which subscriber receives which track, and when: the wiring that used to live in the server's
// Room. Who may receive whom (the main room, breakout groups) stays the server's decision, handed in
// as a predicate; this class only keeps the subscriptions matching it. One subscriber that cannot
// receive a track must never stop the others from getting it.
import type { Subscriber } from './Subscriber.js';
import type { Subscription } from './Subscription.js';
import type { Track } from './Track.js';

/** Who may receive whom: the server's rule, by participant id. */
export type Audience = (receiverId: string, publisherId: string) => boolean;

/** What the fan-out needs from its room. */
export interface FanOutHost {
  /** Everyone who may receive. */
  subscribers(): Iterable<Subscriber>;
  /** Every live track in the room. */
  tracks(): Iterable<Track>;
  /** The current rule. */
  audience(): Audience;
  /** Make `track` consumable where `subscriber` is placed (a pipe from another router, or nothing). */
  bring(track: Track, subscriber: Subscriber): Promise<void>;
  /** A subscription was made and still matches the rule: tell its subscriber's client. */
  subscribed(subscriber: Subscriber, subscription: Subscription): void;
  /** A subscription could not be made. */
  failed(subscriber: Subscriber, track: Track, error: unknown): void;
}

/** The room's subscriptions, kept matching its audience rule. */
export class FanOut {
  readonly #host: FanOutHost;

  /** Used by RoomMedia. */
  constructor(host: FanOutHost) {
    this.#host = host;
  }

  /**
   * Give a subscriber every track it may receive. All are asked for at once, video first: a browser
   * sets up the first consumer alone (it connects the transport on the way) and batches those that
   * arrive meanwhile, so a first picture is what joining waits on.
   */
  async catchUp(subscriber: Subscriber): Promise<void> {
    const tracks = [...this.#host.tracks()].filter((track) => this.#allowed(subscriber, track));
    tracks.sort((a, b) => Number(a.kind === 'audio') - Number(b.kind === 'audio'));
    await Promise.all(tracks.map((track) => this.#deliver(subscriber, track)));
  }

  /** A new track: every subscriber that may receive it gets it. */
  async distribute(track: Track): Promise<void> {
    const receivers = [...this.#host.subscribers()].filter((s) => this.#allowed(s, track));
    await Promise.all(receivers.map((subscriber) => this.#deliver(subscriber, track)));
  }

  /**
   * The rule changed (participants moved between groups): subscriptions it no longer allows end
   * first, then the missing ones it allows are made, on the transports everyone already has.
   * Subscriptions the rule still allows are kept, not torn down and rebuilt.
   */
  async rewire(): Promise<void> {
    const audience = this.#host.audience();
    const subscribers = [...this.#host.subscribers()];
    for (const subscriber of subscribers) {
      for (const subscription of [...subscriber.subscriptions.values()]) {
        if (!audience(subscriber.id, subscription.peerId)) subscriber.unsubscribe(subscription.id);
      }
    }
    const tracks = [...this.#host.tracks()];
    await Promise.all(
      subscribers.flatMap((subscriber) =>
        tracks.filter((track) => this.#allowed(subscriber, track)).map((track) => this.#deliver(subscriber, track)),
      ),
    );
  }

  #allowed(subscriber: Subscriber, track: Track): boolean {
    return subscriber.id !== track.peerId && this.#host.audience()(subscriber.id, track.peerId);
  }

  /** Give one subscriber one track, if the rule allows and it wants it (setView: a track come into view). */
  async deliver(subscriber: Subscriber, track: Track): Promise<void> {
    if (this.#allowed(subscriber, track)) await this.#deliver(subscriber, track);
  }

  async #deliver(subscriber: Subscriber, track: Track): Promise<void> {
    // A track published while this subscriber was becoming ready reaches it both ways: once.
    const skip = () => !subscriber.receiving || subscriber.closed || track.closed || subscriber.subscribes(track.id) || !subscriber.wants(track);
    if (skip()) return;
    let subscription: Subscription;
    try {
      await this.#host.bring(track, subscriber);
      if (skip()) return;
      subscription = await subscriber.subscribe(track);
    } catch (error) {
      this.#host.failed(subscriber, track, error);
      return;
    }
    // Either side may have moved to another group, or left, while the worker was making it.
    if (!this.#allowed(subscriber, track) || track.closed) {
      if (!subscription.closed && !subscriber.closed) subscriber.unsubscribe(subscription.id);
      return;
    }
    this.#host.subscribed(subscriber, subscription);
  }
}
