// Guests, the admin endpoint that issues links, "who am I", and the auth section of the config.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../config/index.js';
import { Authenticator } from '../../server/auth/index.js';
import { roleFromClaims } from '../../server/auth/roleMapping.js';
import { buildAuthApp, configWith } from './support.js';

const log = pino({ level: 'silent' });
const ADMIN = 'admin-token-for-tests-0123456789abcdef';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('guests', () => {
  it('join as students with no configuration', async () => {
    const auth = await Authenticator.create(loadConfig({ env: {} }).auth, log);
    const guest = auth.guestIdentity('physics-101');
    expect(guest).toMatchObject({ role: 'student', room: 'physics-101', via: 'guest' });
    expect(guest?.subject).toMatch(/^guest:/);
    expect(auth.guestIdentity('physics-101')?.subject).not.toBe(guest?.subject);
  });

  it('can be turned off, limited to some rooms, or given the guest role', async () => {
    const off = await Authenticator.create(configWith({ auth: { guests: { enabled: false } } }).auth, log);
    expect(off.guestIdentity('physics-101')).toBeUndefined();
    const some = await Authenticator.create(configWith({ auth: { guests: { rooms: ['open-day'], role: 'guest' } } }).auth, log);
    expect(some.guestIdentity('physics-101')).toBeUndefined();
    expect(some.guestIdentity('open-day')?.role).toBe('guest');
  });
});

describe('POST /admin/tokens', () => {
  const issue = (body: unknown, token?: string) =>
    app!.inject({ method: 'POST', url: '/admin/tokens', payload: body as object, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('refuses requests without a valid admin token', async () => {
    ({ app } = await buildAuthApp(configWith({ auth: { adminTokens: [sha256(ADMIN)] } })));
    const none = await issue({ room: 'physics-101', role: 'instructor' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await issue({ room: 'physics-101', role: 'instructor' }, `${ADMIN}x`)).statusCode).toBe(401);
    // The configured value is the hash; presenting the hash itself must not work.
    expect((await issue({ room: 'physics-101', role: 'instructor' }, sha256(ADMIN))).statusCode).toBe(401);
  });

  it('is closed when no admin token is configured', async () => {
    ({ app } = await buildAuthApp(configWith()));
    expect((await issue({ room: 'physics-101', role: 'instructor' }, ADMIN)).statusCode).toBe(401);
  });

  it('issues a link that verifies for its room', async () => {
    let authenticator: Authenticator;
    ({ app, authenticator } = await buildAuthApp(configWith({ http: { publicUrl: 'https://class.example.edu' }, auth: { adminTokens: [sha256('other-admin-token-xxxxxxxxxxxx'), sha256(ADMIN)] } })));
    const response = await issue({ room: 'physics-101', role: 'instructor', displayName: 'Prof. Byrne', ttlSeconds: 3600 }, ADMIN);
    expect(response.statusCode).toBe(200);
    const { token, url, expiresAt } = response.json() as { token: string; url: string; expiresAt: string };
    expect(url).toBe(`https://class.example.edu/r/physics-101#token=${token}`);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    expect(await authenticator.verifyRoomToken(token, 'physics-101')).toMatchObject({ role: 'instructor', displayName: 'Prof. Byrne' });
  });

  it('validates the body', async () => {
    ({ app } = await buildAuthApp(configWith({ auth: { adminTokens: [sha256(ADMIN)], tokens: { maxTtlSeconds: 3600 } } })));
    for (const body of [{ room: 'physics-101', role: 'admin' }, { room: '../x', role: 'student' }, { room: 'physics-101' }, { room: 'physics-101', role: 'student', ttlSeconds: 7200 }]) {
      const response = await issue(body, ADMIN);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });
});

describe('GET /auth/session', () => {
  it('says who is signed in (nobody), whether sign-in exists, and whether the room admits guests', async () => {
    ({ app } = await buildAuthApp(configWith({ auth: { guests: { rooms: ['open-day'] } } })));
    const open = await app.inject({ method: 'GET', url: '/auth/session?room=open-day' });
    expect(open.json()).toEqual({ identity: null, signIn: false, guests: true });
    expect(open.headers['cache-control']).toBe('no-store');
    expect((await app.inject({ method: 'GET', url: '/auth/session?room=physics-101' })).json()).toMatchObject({ guests: false });
    expect((await app.inject({ method: 'GET', url: '/auth/login?room=physics-101' })).statusCode).toBe(404);
  });
});

describe('auth config', () => {
  it('has working defaults with no configuration', () => {
    const { auth } = loadConfig({ env: {} });
    expect(auth.guests).toEqual({ enabled: true, role: 'student' });
    expect(auth.adminTokens).toEqual([]);
    expect(auth.tokenSecret).toBeUndefined();
    expect(auth.oidc).toBeUndefined();
  });

  it('takes the secrets from the environment', () => {
    const secret = 'x'.repeat(32);
    const { auth } = loadConfig({ env: { LECTERN_AUTH_TOKEN_SECRET: secret, LECTERN_AUTH_SESSION_SECRET: secret, LECTERN_AUTH_ADMIN_TOKENS: JSON.stringify([sha256(ADMIN)]) } });
    expect(auth.tokenSecret).toBe(secret);
    expect(auth.adminTokens).toEqual([sha256(ADMIN)]);
  });

  it('rejects short secrets, plaintext admin tokens and unknown keys', () => {
    const problems = (auth: unknown) => {
      try {
        configWith({ auth });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.join('\n');
      }
      throw new Error('accepted');
    };
    expect(problems({ tokenSecret: 'short' })).toMatch(/auth\.tokenSecret/);
    expect(problems({ adminTokens: [ADMIN] })).toMatch(/auth\.adminTokens/);
    expect(problems({ oidc: { issuer: 'https://idp.example.edu', clientId: 'x', groupClaim: 'groups' } })).toMatch(/auth\.oidc\.groupClaim/);
  });

  it('refuses an http identity provider that is not on this machine', async () => {
    const config = configWith({ auth: { oidc: { issuer: 'http://idp.example.edu', clientId: 'lectern' } } });
    await expect(Authenticator.create(config.auth, log)).rejects.toThrow(/must be https/);
  });
});

describe('role mapping', () => {
  const oidc = { roleClaim: 'groups', instructorValues: ['staff'], studentValues: ['students'], otherwise: 'refuse' as const };
  it('prefers instructor, then student, then the otherwise rule', () => {
    expect(roleFromClaims({ groups: ['students', 'staff'] }, oidc)).toBe('instructor');
    expect(roleFromClaims({ groups: 'students' }, oidc)).toBe('student');
    expect(roleFromClaims({ groups: ['alumni'] }, oidc)).toBeUndefined();
    expect(roleFromClaims({}, { ...oidc, otherwise: 'guest' })).toBe('guest');
    expect(roleFromClaims({ groups: [{ name: 'staff' }] }, oidc)).toBeUndefined();
  });
});
