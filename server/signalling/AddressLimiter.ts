// New signalling connections per client address. A client that is closed for junk and reconnects
// at once, over and over (8,871 times in 74 s in the fuzz bench), costs the server a WebSocket
// handshake and a frame budget each time: ~92 % of a core, although each connection is cut off
// within 20 frames. A token bucket per address bounds that. Generous by default: a campus behind
// one NAT address opens hundreds of connections when a lecture starts.
import { RateLimiter } from './RateLimiter.js';

const SWEEP_MS = 60_000;

/** Token buckets of new connections, one per client address. */
export class AddressLimiter {
  readonly #perMinute: number;
  readonly #buckets = new Map<string, { limiter: RateLimiter; last: number }>();
  #sweepAt = performance.now() + SWEEP_MS;

  constructor(perMinute: number) {
    this.#perMinute = perMinute;
  }

  /** Take one connection for `address`; false: refuse it. */
  take(address: string): boolean {
    const now = performance.now();
    if (now >= this.#sweepAt) this.#sweep(now);
    let bucket = this.#buckets.get(address);
    if (!bucket) {
      bucket = { limiter: new RateLimiter(this.#perMinute / 60, undefined, this.#perMinute), last: now };
      this.#buckets.set(address, bucket);
    }
    bucket.last = now;
    return bucket.limiter.take();
  }

  // A bucket untouched for a minute has refilled: dropping it changes nothing but the memory.
  #sweep(now: number): void {
    this.#sweepAt = now + SWEEP_MS;
    for (const [address, bucket] of this.#buckets) if (now - bucket.last >= SWEEP_MS) this.#buckets.delete(address);
  }
}
