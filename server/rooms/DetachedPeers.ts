// Participants whose connection dropped, held for a grace window. A home Wi-Fi blip or a laptop
// switching networks must not look like leaving: the participant keeps their place, hand, lobby
// position and media, their notifications are held, and a new connection can resume them. Only
// when the window passes (or too much piles up) do they leave, as they would have at once before.
import type { Peer } from './Peer.js';
import { HeldNotifications } from './HeldNotifications.js';

// A lecture hall's worth of joins, leaves and tracks over 30 s, with state notifications coalesced.
const MAX_HELD_NOTIFICATIONS = 2000;

/** Why a held participant was let go. */
export type DetachExpiry = 'grace window passed' | 'too many held notifications';

/** The detached participants of one room. */
export class DetachedPeers {
  readonly #graceMs: number;
  readonly #expire: (peer: Peer, why: DetachExpiry) => void;
  readonly #held = new Map<Peer, { timer: NodeJS.Timeout; queue: HeldNotifications }>();

  /** `expire` is called when a held participant's time is up; it should remove them. */
  constructor(graceMs: number, expire: (peer: Peer, why: DetachExpiry) => void) {
    this.#graceMs = graceMs;
    this.#expire = expire;
  }

  /** Number of participants held. */
  get size(): number {
    return this.#held.size;
  }

  /** Whether this participant is held. */
  has(peer: Peer): boolean {
    return this.#held.has(peer);
  }

  /** Hold a participant whose connection dropped: keep their notifications, start the window. */
  hold(peer: Peer): void {
    if (this.#held.has(peer)) return;
    // Let go on the next turn: the overflow happens inside a broadcast that is still iterating.
    const queue = new HeldNotifications(MAX_HELD_NOTIFICATIONS, () => setImmediate(() => this.#letGo(peer, 'too many held notifications')));
    peer.switchNotifier(queue);
    const timer = setTimeout(() => this.#letGo(peer, 'grace window passed'), this.#graceMs);
    timer.unref();
    this.#held.set(peer, { timer, queue });
  }

  /**
   * A new connection took the participant back: it gets what was held, in order, and from then
   * on everything else. Returns the notifier the participant had (a connection, when one that is
   * still open is being taken over).
   */
  release(peer: Peer, to: Peer['notifier']): Peer['notifier'] {
    const held = this.#held.get(peer);
    if (!held) return peer.switchNotifier(to);
    this.forget(peer);
    held.queue.drainTo(to);
    peer.switchNotifier(to);
    return held.queue;
  }

  /** Stop holding a participant (they left or the room closed). */
  forget(peer: Peer): void {
    const held = this.#held.get(peer);
    if (!held) return;
    clearTimeout(held.timer);
    this.#held.delete(peer);
  }

  /** Stop every window (the room closed). */
  clear(): void {
    for (const { timer } of this.#held.values()) clearTimeout(timer);
    this.#held.clear();
  }

  #letGo(peer: Peer, why: DetachExpiry): void {
    if (!this.#held.has(peer)) return;
    this.forget(peer);
    this.#expire(peer, why);
  }
}
