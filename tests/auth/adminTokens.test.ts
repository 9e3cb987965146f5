// The admin token check compares with every configured hash through crypto.timingSafeEqual: no
// early exit, no `===` on secrets.
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

const timingSafeEqual = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      timingSafeEqual.calls++;
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const { AdminTokens } = await import('../../server/auth/AdminTokens.js');
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('admin tokens', () => {
  const admins = new AdminTokens([sha256('first-admin-token'), sha256('second-admin-token'), sha256('third-admin-token')]);

  it('accepts each configured token and nothing else', () => {
    expect(admins.matches('first-admin-token')).toBe(true);
    expect(admins.matches('third-admin-token')).toBe(true);
    expect(admins.matches('fourth-admin-token')).toBe(false);
    expect(admins.matches('')).toBe(false);
    expect(admins.matches(undefined)).toBe(false);
  });

  it('compares in constant time against every hash, whether or not one matches', () => {
    for (const token of ['first-admin-token', 'nope']) {
      timingSafeEqual.calls = 0;
      admins.matches(token);
      expect(timingSafeEqual.calls).toBe(3);
    }
  });

  it('reads only Bearer tokens from the Authorization header', () => {
    expect(AdminTokens.fromHeader('Bearer abc')).toBe('abc');
    expect(AdminTokens.fromHeader('bearer abc ')).toBe('abc');
    expect(AdminTokens.fromHeader('Basic abc')).toBeUndefined();
    expect(AdminTokens.fromHeader(undefined)).toBeUndefined();
  });
});
