// A token bucket per connection: bursts up to one second's worth of requests, refilled continuously.
// Joining a class takes ~8 requests; a client looping on a bug takes thousands.

// One clock for every limiter: a bound function per connection is memory every idle session pays.
const monotonicNow = (): number => performance.now();

/** Token bucket allowing `perSecond` requests per second on average. */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(perSecond: number, now: () => number = monotonicNow) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
    this.#now = now;
    this.#last = now();
  }

  /** Take one token; false means the request must be refused. */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
