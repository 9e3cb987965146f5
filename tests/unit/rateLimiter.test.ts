import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../server/signalling/RateLimiter.js';

describe('RateLimiter', () => {
  it('allows a burst of one second of requests, then refills over time', () => {
    let now = 0;
    const limiter = new RateLimiter(5, () => now);
    const burst = Array.from({ length: 8 }, () => limiter.take());
    expect(burst).toEqual([true, true, true, true, true, false, false, false]);
    now += 200; // one token per 200 ms at 5/s
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    now += 10_000; // never more than one second's burst banked
    expect(Array.from({ length: 6 }, () => limiter.take()).filter(Boolean)).toHaveLength(5);
  });
});
