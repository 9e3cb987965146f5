import { describe, expect, it } from 'vitest';
import { truncateIp } from '../../server/logging.js';

describe('truncateIp', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0'],
    ['::ffff:198.51.100.9', '198.51.100.0'],
    ['2001:db8:abcd:12:1:2:3:4', '2001:db8:abcd::'],
    ['2001:db8::1', '2001:db8:0::'],
    ['::1', '0:0:0::'],
    ['not-an-ip', 'unknown'],
  ])('%s -> %s', (input, expected) => {
    expect(truncateIp(input)).toBe(expected);
  });
});
