// A token bucket per connection: bursts up to `burst` (by default one second's worth), refilled
// continuously. Joining a class takes ~8 requests; a client looping on a bug takes thousands.
// Session keeps several: frames and bytes before anything is parsed, requests after validation,
// and invalid frames (a slow bucket, so junk mixed in with valid requests still adds up).

// One clock for every limiter: a bound function per connection is memory every idle session pays.
const monotonicNow = (): number => performance.now();

/** Token bucket allowing `perSecond` units per second on average and `burst` at once. */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(perSecond: number, now: () => number = monotonicNow, burst: number = perSecond) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#last = now();
  }

  /** Take `cost` tokens (1 by default); false means refuse, and nothing is taken. */
  take(cost = 1): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }
}
