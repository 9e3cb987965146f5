// What a participant is told while their connection is down. Kept in order and handed to the
// connection that resumes them, so a resumed browser misses nothing that changes what it shows:
// tracks added and closed, people coming and going, chat, hands, lobby, policy. Notifications that
// only carry the latest state (who speaks, the hand queue...) keep just their last value, so a long
// outage in a busy class stays bounded; past the bound the participant cannot be resumed.
import type { NotificationData, NotificationName } from '../../protocol/index.js';
import type { Notifier } from './Peer.js';

/** Notifications whose last value replaces the earlier ones. */
const LATEST_ONLY: ReadonlySet<NotificationName> = new Set(['activeSpeaker', 'handQueue', 'lobbyChanged', 'roomPolicy']);

type Held = { [N in NotificationName]: { method: N; data: NotificationData<N> } }[NotificationName];

/** A Notifier that keeps what it is given, up to `limit` entries. */
export class HeldNotifications implements Notifier {
  readonly #limit: number;
  readonly #onOverflow: () => void;
  #held: Held[] = [];
  #overflowed = false;

  /** `onOverflow` is called once when more than `limit` notifications would be kept. */
  constructor(limit: number, onOverflow: () => void) {
    this.#limit = limit;
    this.#onOverflow = onOverflow;
  }

  /** Number of notifications kept. */
  get size(): number {
    return this.#held.length;
  }

  /** Keep a notification (the last one only, for state notifications). */
  notify<N extends NotificationName>(method: N, data: NotificationData<N>): void {
    if (this.#overflowed) return;
    if (LATEST_ONLY.has(method)) this.#held = this.#held.filter((h) => h.method !== method);
    this.#held.push({ method, data } as Held);
    if (this.#held.length > this.#limit) {
      this.#overflowed = true;
      this.#held = [];
      this.#onOverflow();
    }
  }

  /** Send everything kept to `to`, oldest first, and forget it. */
  drainTo(to: Notifier): void {
    const held = this.#held;
    this.#held = [];
    for (const { method, data } of held) to.notify(method, data as never);
  }
}
