// How many rooms one connection and one client address may open per minute. Each room is a
// mediasoup router, so a single guest looping over room names could otherwise fill the server
// (2,037 routers in 1.7 s in the fault round behind issue 12). Counted only when a join would
// create a room: joining an open class costs nothing here, so a campus NAT full of students is fine.

const WINDOW_MS = 60_000;

/** Per-key creation counts over the last minute. */
export class CreationQuota {
  readonly #perMinute: number;
  readonly #now: () => number;
  /** Creation times per key, oldest first; keys whose times have all expired are dropped. */
  readonly #times = new Map<string, number[]>();
  #sweepAt: number;

  constructor(perMinute: number, now: () => number = () => performance.now()) {
    this.#perMinute = perMinute;
    this.#now = now;
    this.#sweepAt = now() + WINDOW_MS;
  }

  /** Whether `key` may create one more room now (nothing is counted). */
  allows(key: string): boolean {
    return this.#recent(key).length < this.#perMinute;
  }

  /** Count one creation for `key`. */
  count(key: string): void {
    const times = this.#recent(key);
    times.push(this.#now());
    this.#times.set(key, times);
  }

  #recent(key: string): number[] {
    const now = this.#now();
    if (now >= this.#sweepAt) this.#sweep(now);
    const times = this.#times.get(key) ?? [];
    while (times.length > 0 && (times[0] as number) <= now - WINDOW_MS) times.shift();
    return times;
  }

  // Keys of connections long gone would otherwise stay in the map for the life of the server.
  #sweep(now: number): void {
    this.#sweepAt = now + WINDOW_MS;
    for (const [key, times] of this.#times) {
      if ((times[times.length - 1] ?? -Infinity) <= now - WINDOW_MS) this.#times.delete(key);
    }
  }
}
