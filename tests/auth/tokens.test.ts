// Room tokens: Lectern's own links (HS256) and tokens from the university's systems (EdDSA, RS256).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT } from 'jose';
import pino from 'pino';
import { loadConfig } from '../../config/index.js';
import { Authenticator, AuthError } from '../../server/auth/index.js';
import { configWith } from './support.js';

const log = pino({ level: 'silent' });
const SECRET = 'a-configured-secret-of-at-least-32-bytes!';
const ROOM = 'physics-101';

async function authenticator(auth: Record<string, unknown> = {}): Promise<Authenticator> {
  return Authenticator.create(configWith({ auth }).auth, log);
}

/** A token signed with `key`, with sensible claims that each test overrides. */
async function sign(key: Uint8Array | CryptoKey | import('node:crypto').KeyObject, alg: string, claims: Record<string, unknown>, set: { iss?: string; aud?: string; exp?: number | null } = {}) {
  const jwt = new SignJWT({ role: 'student', room: ROOM, ...claims }).setProtectedHeader({ alg }).setIssuedAt().setIssuer(set.iss ?? 'lectern').setAudience(set.aud ?? 'lectern');
  if (set.exp !== null) jwt.setExpirationTime(set.exp ?? Math.floor(Date.now() / 1000) + 600);
  return jwt.sign(key);
}

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AuthError);
  return error as AuthError;
}

describe('room tokens with no configuration', () => {
  it('issues and verifies links with a key made at start-up', async () => {
    const auth = await Authenticator.create(loadConfig({ env: {} }).auth, log);
    expect(auth.ephemeralTokens).toBe(true);
    expect(auth.canIssueTokens).toBe(true);
    const token = await auth.issueRoomToken({ room: ROOM, role: 'instructor', displayName: 'Prof. Byrne' });
    const identity = await auth.verifyRoomToken(token, ROOM);
    expect(identity).toMatchObject({ role: 'instructor', room: ROOM, via: 'token', displayName: 'Prof. Byrne' });
    expect(identity.tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect(identity.subject).toBe(`link:${identity.tokenId}`);
  });

  it('does not accept another instance\'s links: a restart ends them', async () => {
    const before = await authenticator();
    const after = await authenticator();
    const token = await before.issueRoomToken({ room: ROOM, role: 'instructor' });
    expect((await refusal(after.verifyRoomToken(token, ROOM))).code).toBe('unauthorized');
  });
});

describe('room tokens with a configured secret', () => {
  it('verifies a valid token and keeps subject, name and jti', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    expect(auth.ephemeralTokens).toBe(false);
    const token = await auth.issueRoomToken({ room: ROOM, role: 'student', subject: 's1234', displayName: 'Ana', ttlSeconds: 120 });
    const identity = await auth.verifyRoomToken(token, ROOM);
    expect(identity).toMatchObject({ subject: 's1234', displayName: 'Ana', role: 'student', room: ROOM, via: 'token' });
    // Another server with the same secret accepts it: links survive restarts and span instances.
    expect((await (await authenticator({ tokenSecret: SECRET })).verifyRoomToken(token, ROOM)).subject).toBe('s1234');
  });

  it('refuses an expired token with code expired', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    const token = await sign(new TextEncoder().encode(SECRET), 'HS256', {}, { exp: Math.floor(Date.now() / 1000) - 120 });
    const error = await refusal(auth.verifyRoomToken(token, ROOM));
    expect(error.code).toBe('expired');
    expect(error.statusCode).toBe(401);
  });

  it('refuses a token without an expiry', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    const token = await sign(new TextEncoder().encode(SECRET), 'HS256', {}, { exp: null });
    expect((await refusal(auth.verifyRoomToken(token, ROOM))).code).toBe('unauthorized');
  });

  it('refuses a forged signature and a tampered payload', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    const forged = await sign(new TextEncoder().encode('another-secret-that-is-32-bytes-long!!'), 'HS256', { role: 'instructor' });
    expect((await refusal(auth.verifyRoomToken(forged, ROOM))).code).toBe('unauthorized');

    const real = await auth.issueRoomToken({ room: ROOM, role: 'student' });
    const [header, payload, signature] = real.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'instructor' })).toString('base64url');
    expect((await refusal(auth.verifyRoomToken(`${header}.${promoted}.${signature}`, ROOM))).code).toBe('unauthorized');
  });

  it('refuses a token for another room with wrong_room, and accepts an all-rooms token anywhere', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    const token = await auth.issueRoomToken({ room: 'chemistry-201', role: 'instructor' });
    const error = await refusal(auth.verifyRoomToken(token, ROOM));
    expect(error.code).toBe('wrong_room');
    expect(error.statusCode).toBe(403);
    const everywhere = await auth.issueRoomToken({ room: '*', role: 'instructor' });
    expect((await auth.verifyRoomToken(everywhere, ROOM)).room).toBe('*');
  });

  it('refuses the wrong issuer and the wrong audience', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    const key = new TextEncoder().encode(SECRET);
    expect((await refusal(auth.verifyRoomToken(await sign(key, 'HS256', {}, { iss: 'someone-else' }), ROOM))).code).toBe('unauthorized');
    expect((await refusal(auth.verifyRoomToken(await sign(key, 'HS256', {}, { aud: 'another-app' }), ROOM))).code).toBe('unauthorized');
  });

  it('refuses alg "none" and malformed tokens', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    const unsecured = new UnsecuredJWT({ role: 'instructor', room: ROOM }).setIssuer('lectern').setAudience('lectern').setExpirationTime('10m').encode();
    expect((await refusal(auth.verifyRoomToken(unsecured, ROOM))).code).toBe('unauthorized');
    expect((await refusal(auth.verifyRoomToken('not.a.token', ROOM))).code).toBe('unauthorized');
    expect((await refusal(auth.verifyRoomToken('', ROOM))).code).toBe('unauthorized');
  });

  it('refuses a token with an unknown role or no room', async () => {
    const auth = await authenticator({ tokenSecret: SECRET });
    const key = new TextEncoder().encode(SECRET);
    expect((await refusal(auth.verifyRoomToken(await sign(key, 'HS256', { role: 'admin' }), ROOM))).code).toBe('unauthorized');
    expect((await refusal(auth.verifyRoomToken(await sign(key, 'HS256', { room: undefined }), ROOM))).code).toBe('unauthorized');
  });

  it('refuses to issue for a bad room or a lifetime above the maximum', async () => {
    const auth = await authenticator({ tokenSecret: SECRET, tokens: { maxTtlSeconds: 3600 } });
    await expect(auth.issueRoomToken({ room: '../etc', role: 'student' })).rejects.toThrow(RangeError);
    await expect(auth.issueRoomToken({ room: ROOM, role: 'student', ttlSeconds: 3601 })).rejects.toThrow(RangeError);
  });
});

describe('tokens from the university\'s systems', () => {
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = (k: typeof ed) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const trustedKeys = [
    { alg: 'EdDSA', publicKey: pem(ed), issuer: 'https://sis.example.edu', audience: 'lectern' },
    { alg: 'RS256', publicKey: pem(rsa), issuer: 'https://lms.example.edu', audience: 'lectern-prod' },
  ];

  it('accepts Ed25519 and RS256 tokens with their issuer and audience', async () => {
    const auth = await authenticator({ tokens: { trustedKeys } });
    const edToken = await sign(ed.privateKey, 'EdDSA', { sub: 'u-1', role: 'instructor', jti: 'j-1' }, { iss: 'https://sis.example.edu' });
    expect(await auth.verifyRoomToken(edToken, ROOM)).toEqual({ subject: 'u-1', role: 'instructor', room: ROOM, via: 'token', tokenId: 'j-1' });
    const rsToken = await sign(rsa.privateKey, 'RS256', { sub: 'u-2' }, { iss: 'https://lms.example.edu', aud: 'lectern-prod' });
    expect((await auth.verifyRoomToken(rsToken, ROOM)).subject).toBe('u-2');
  });

  it('refuses a trusted issuer\'s token with the wrong audience or signed by another key', async () => {
    const auth = await authenticator({ tokens: { trustedKeys } });
    const wrongAud = await sign(ed.privateKey, 'EdDSA', {}, { iss: 'https://sis.example.edu', aud: 'lectern-prod' });
    expect((await refusal(auth.verifyRoomToken(wrongAud, ROOM))).code).toBe('unauthorized');
    const other = generateKeyPairSync('ed25519');
    const forged = await sign(other.privateKey, 'EdDSA', {}, { iss: 'https://sis.example.edu' });
    expect((await refusal(auth.verifyRoomToken(forged, ROOM))).code).toBe('unauthorized');
  });

  it('refuses an HS256 token keyed with the public key (algorithm confusion)', async () => {
    const auth = await authenticator({ tokens: { trustedKeys } });
    const confused = await sign(new TextEncoder().encode(pem(ed)), 'HS256', { role: 'instructor' }, { iss: 'https://sis.example.edu' });
    expect((await refusal(auth.verifyRoomToken(confused, ROOM))).code).toBe('unauthorized');
  });

  it('issues nothing itself when only the university\'s keys are configured', async () => {
    const auth = await authenticator({ tokens: { trustedKeys } });
    expect(auth.canIssueTokens).toBe(false);
    expect(auth.ephemeralTokens).toBe(false);
    await expect(auth.issueRoomToken({ room: ROOM, role: 'instructor' })).rejects.toThrow(/issues no room tokens/);
  });
});
