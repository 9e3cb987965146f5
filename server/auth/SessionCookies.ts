// The contents of Lectern's two cookies, as HS256 JWTs signed with auth.sessionSecret (or a key
// made at start-up): the session of someone who signed in with OpenID Connect, and the short-lived
// state of a sign-in in progress (state, nonce, PKCE verifier). Each kind has its own audience, so
// one can never be replayed as the other.
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { AuthConfig } from '../../config/auth.js';
import { isRole, type Identity } from './Identity.js';

/** Cookie holding a signed-in session. */
export const SESSION_COOKIE = 'lectern_session';
/** Cookie holding a sign-in in progress, between /auth/login and /auth/callback. */
export const LOGIN_COOKIE = 'lectern_login';
/** A sign-in must come back from the IdP within this time. */
export const LOGIN_TTL_SECONDS = 600;

const SESSION_AUDIENCE = 'lectern:session';
const LOGIN_AUDIENCE = 'lectern:login';
const ISSUER = 'lectern';

/** What /auth/callback needs to finish the sign-in /auth/login started. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  room: string;
}

/** Signs and reads session and sign-in cookies. */
export class SessionCookies {
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;
  /** True when the key was generated at start-up: sessions survive reloads but not a restart. */
  readonly ephemeral: boolean;

  private constructor(key: Uint8Array, ttlSeconds: number, ephemeral: boolean) {
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
    this.ephemeral = ephemeral;
  }

  /** Use auth.sessionSecret, or a fresh random key when none is configured. */
  static async create(config: AuthConfig): Promise<SessionCookies> {
    const ephemeral = config.sessionSecret === undefined;
    const key = ephemeral ? randomBytes(32) : new TextEncoder().encode(config.sessionSecret);
    return new SessionCookies(key, config.sessionTtlSeconds, ephemeral);
  }

  /** Lifetime of a session cookie, for its Max-Age. */
  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  /** Cookie value for a signed-in person. */
  async sealSession(identity: Identity): Promise<string> {
    const claims: Record<string, string> = { role: identity.role, via: identity.via };
    if (identity.displayName !== undefined) claims.name = identity.displayName;
    return this.#sign(claims, identity.subject, SESSION_AUDIENCE, this.#ttlSeconds);
  }

  /** The identity in a session cookie, or undefined if it is missing, forged or expired. */
  async openSession(value: string | undefined): Promise<Identity | undefined> {
    const payload = await this.#verify(value, SESSION_AUDIENCE);
    if (!payload || typeof payload.sub !== 'string' || !isRole(payload.role) || payload.via !== 'oidc') return undefined;
    const identity: Identity = { subject: payload.sub, role: payload.role, room: '*', via: 'oidc' };
    if (typeof payload.name === 'string') identity.displayName = payload.name;
    return identity;
  }

  /** Cookie value for a sign-in in progress. */
  async sealLogin(pending: PendingLogin): Promise<string> {
    return this.#sign({ ...pending }, undefined, LOGIN_AUDIENCE, LOGIN_TTL_SECONDS);
  }

  /** The sign-in in progress, or undefined if the cookie is missing, forged or expired. */
  async openLogin(value: string | undefined): Promise<PendingLogin | undefined> {
    const payload = await this.#verify(value, LOGIN_AUDIENCE);
    if (!payload) return undefined;
    const { state, nonce, codeVerifier, room } = payload;
    if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string' || typeof room !== 'string') return undefined;
    return { state, nonce, codeVerifier, room };
  }

  async #sign(claims: Record<string, string>, subject: string | undefined, audience: string, ttlSeconds: number): Promise<string> {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
    if (subject !== undefined) jwt.setSubject(subject);
    return jwt.sign(this.#key);
  }

  async #verify(value: string | undefined, audience: string): Promise<Record<string, unknown> | undefined> {
    if (!value) return undefined;
    try {
      const { payload } = await jwtVerify(value, this.#key, { algorithms: ['HS256'], issuer: ISSUER, audience, requiredClaims: ['exp'] });
      return payload;
    } catch {
      // A bad cookie is the same as no cookie: the person signs in again.
      return undefined;
    }
  }
}
