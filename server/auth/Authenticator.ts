// Everything that decides who a participant is: room links, OpenID Connect sessions, guests, admins.
// The join handler asks it for an Identity; it never decides what that identity may do (permissions do).
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { fastifyCookie } from '@fastify/cookie';
import type { AuthConfig } from '../../config/auth.js';
import { AdminTokens } from './AdminTokens.js';
import type { Identity } from './Identity.js';
import { OidcLogin } from './OidcLogin.js';
import { RoomTokens, type RoomTokenRequest } from './RoomTokens.js';
import { SessionCookies, SESSION_COOKIE } from './SessionCookies.js';

/** Verifies room tokens, session cookies, guests and admins with the configured keys. */
export class Authenticator {
  readonly #config: AuthConfig;
  readonly #tokens: RoomTokens;
  readonly #admins: AdminTokens;
  /** Session and sign-in cookies; used by authRoutes. */
  readonly sessions: SessionCookies;
  /** OpenID Connect sign-in; undefined when auth.oidc is not configured. Used by authRoutes. */
  readonly oidc: OidcLogin | undefined;

  private constructor(config: AuthConfig, tokens: RoomTokens, admins: AdminTokens, sessions: SessionCookies, oidc: OidcLogin | undefined) {
    this.#config = config;
    this.#tokens = tokens;
    this.#admins = admins;
    this.sessions = sessions;
    this.oidc = oidc;
  }

  /** Import keys (or make ephemeral ones) and check the OpenID Connect settings. Throws on a bad key. */
  static async create(config: AuthConfig, log: FastifyBaseLogger): Promise<Authenticator> {
    const tokens = await RoomTokens.create(config);
    const sessions = await SessionCookies.create(config);
    const oidc = config.oidc ? await OidcLogin.create(config.oidc, log) : undefined;
    if (tokens.ephemeral) log.warn('auth.tokenSecret is not set: room links are signed with a key made at start-up and stop working when Lectern restarts');
    if (sessions.ephemeral && oidc) log.warn('auth.sessionSecret is not set: sign-ins survive page reloads but not a Lectern restart');
    return new Authenticator(config, tokens, new AdminTokens(config.adminTokens), sessions, oidc);
  }

  /** Whether this server signs room links itself (false when only the university's systems issue them). */
  get canIssueTokens(): boolean {
    return this.#tokens.canIssue;
  }

  /** True when links are signed with a key made at start-up (main.ts may then print an instructor link). */
  get ephemeralTokens(): boolean {
    return this.#tokens.ephemeral;
  }

  /** The identity a room token grants in `room`. Throws AuthError: expired, wrong_room, unauthorized. */
  async verifyRoomToken(token: string, room: string): Promise<Identity> {
    return this.#tokens.verify(token, room);
  }

  /** Sign a room link. Throws RangeError for a bad room/lifetime, Error when this server issues no links. */
  async issueRoomToken(request: RoomTokenRequest): Promise<string> {
    return this.#tokens.issue(request);
  }

  /**
   * The signed-in person on this request (the WebSocket upgrade carries the cookie), if any. Takes
   * only the headers, so a long-lived connection need not keep its whole upgrade request alive.
   */
  async identityFromRequest(request: { headers: { cookie?: string | undefined } }, room: string): Promise<Identity | undefined> {
    void room; // a sign-in is good for every room; the room decides admission (lobby), not the sign-in
    const cookies = fastifyCookie.parse(request.headers.cookie ?? '');
    return this.sessions.openSession(cookies[SESSION_COOKIE]);
  }

  /** A fresh guest identity for `room`, or undefined when guests may not join it. */
  guestIdentity(room: string): Identity | undefined {
    const guests = this.#config.guests;
    if (!guests.enabled || (guests.rooms !== undefined && !guests.rooms.includes(room))) return undefined;
    return { subject: `guest:${randomUUID()}`, role: guests.role, room, via: 'guest' };
  }

  /** True when the request carries `Authorization: Bearer <admin token>` (compared in constant time). */
  isAdmin(request: FastifyRequest): boolean {
    return this.#admins.matches(AdminTokens.fromHeader(request.headers.authorization));
  }
}
