// The nonces one receiving node has accepted, so a signed request captured on the private network
// is refused when replayed inside the signature's time window (nodeSignature.ts).
//
// Why a set in this process's memory is enough, and not a set shared through the Coordinator:
// - the signature names the receiving node (`x-lectern-to`), so a request signed for node B is
//   refused at node C whatever C has seen: each node needs to know only what it has accepted itself;
// - a receiver that restarts inside the window has an empty set; it refuses every request
//   timestamped before it started (`notBefore`) instead, so nothing sent to its former process can
//   be accepted by the new one. (Sound up to the clock skew between hosts, which the cluster keeps
//   within NTP's milliseconds; a sender whose clock runs behind has requests in the first
//   milliseconds after a restart refused, and its caller sees a clear 401, never a double effect.)
// - Redis (SET NX PX) per request would put the store on the path of every media call: with Redis
//   unreachable the control channel would either stop (running classes could not subscribe on an
//   edge, though the issue says they go on) or accept unchecked (no protection at all).
//
// Memory is bounded: a nonce is kept only while its timestamp is inside the window, and a sender
// with more live nonces than `perSender` (or all senders together past `total`) is refused rather
// than remembered, so even a sender holding the secret cannot grow the set without bound.

/** Why a nonce is refused: seen before (a replay), or too many live nonces (a flood). */
export type NonceRefusal = 'replayed' | 'flood';

/** Limits of one receiver's ledger. */
export interface NonceLedgerLimits {
  /** How long after its timestamp a nonce must be remembered: the signature's time window. */
  windowMs: number;
  /** Live nonces one sender may hold. */
  perSender: number;
  /** Live nonces all senders together may hold. */
  total: number;
}

/**
 * The control channel's legitimate rate: a class of 500 joining an edge at once is some 25 calls
 * per subscriber (transport, connect, a consume and a resume per track), about 12,500 in a minute.
 * Eight times that per sender; the total lets a few homes do so together (some 100 bytes a nonce).
 */
export const DEFAULT_NONCE_LIMITS: Omit<NonceLedgerLimits, 'windowMs'> = { perSender: 100_000, total: 400_000 };

/** Nonces accepted by this node, each until its timestamp leaves the window. */
export class NonceLedger {
  readonly #limits: NonceLedgerLimits;
  /** Insertion order is (nearly) expiry order: pruned from the front. */
  readonly #seen = new Map<string, { sender: string; expires: number }>();
  readonly #perSender = new Map<string, number>();

  constructor(limits: NonceLedgerLimits) {
    this.#limits = limits;
  }

  /** Live nonces held (for tests and the log). */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Record `nonce` from `sender`, timestamped `time`; undefined when accepted, else why not. Only
   * for requests whose signature was verified: unsigned noise must not fill the ledger.
   */
  admit(sender: string, nonce: string, time: number, now = Date.now()): NonceRefusal | undefined {
    this.#prune(now);
    if (this.#seen.has(nonce)) return 'replayed';
    const held = this.#perSender.get(sender) ?? 0;
    if (held >= this.#limits.perSender || this.#seen.size >= this.#limits.total) return 'flood';
    this.#seen.set(nonce, { sender, expires: time + this.#limits.windowMs });
    this.#perSender.set(sender, held + 1);
    return undefined;
  }

  /**
   * Forget nonces whose timestamp left the window (a replay of them is refused by its time).
   * Timestamps differ by the senders' skew, so an entry may wait behind a later-expiring one (at
   * most two windows after it came): kept longer than needed, never shorter.
   */
  #prune(now: number): void {
    for (const [nonce, entry] of this.#seen) {
      if (entry.expires >= now) break;
      this.#seen.delete(nonce);
      const held = (this.#perSender.get(entry.sender) ?? 1) - 1;
      if (held > 0) this.#perSender.set(entry.sender, held);
      else this.#perSender.delete(entry.sender);
    }
  }
}
