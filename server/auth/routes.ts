// HTTP side of sign-in: OpenID Connect login/callback, logout, "who am I", and the admin endpoint
// that issues room links. Errors are thrown with a status and code and rendered by server/httpErrors.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fastifyCookie, type CookieSerializeOptions } from '@fastify/cookie';
import { Type, type Static } from '@sinclair/typebox';
import type { LecternConfig } from '../../config/index.js';
import { RoleSchema } from '../../config/auth.js';
import { RoomName, DisplayName, httpErrorBody } from '../../protocol/index.js';
import { AuthError } from './AuthError.js';
import type { Authenticator } from './Authenticator.js';
import { LOGIN_COOKIE, LOGIN_TTL_SECONDS, SESSION_COOKIE } from './SessionCookies.js';

/** What authRoutes needs: the authenticator and the whole config (auth section and http.publicUrl). */
export interface AuthRoutesOptions {
  authenticator: Authenticator;
  config: LecternConfig;
}

const LoginQuery = Type.Object({ room: RoomName }, { additionalProperties: false });
// The IdP may add parameters of its own (session_state, scope...); they are kept for openid-client.
const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 4096 })),
    state: Type.Optional(Type.String({ maxLength: 512 })),
    iss: Type.Optional(Type.String({ maxLength: 512 })),
    error: Type.Optional(Type.String({ maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: Type.String({ maxLength: 4096 }) },
);
const SessionQuery = Type.Object({ room: Type.Optional(RoomName) }, { additionalProperties: false });
const PublicIdentity = Type.Object({
  subject: Type.String(),
  displayName: Type.Optional(Type.String()),
  role: RoleSchema,
  via: Type.Union([Type.Literal('token'), Type.Literal('oidc'), Type.Literal('guest')]),
});
const SessionReply = Type.Object({
  /** The signed-in person, or null. */
  identity: Type.Union([PublicIdentity, Type.Null()]),
  /** Whether /auth/login leads anywhere (a sign-in button makes sense). */
  signIn: Type.Boolean(),
  /** Whether the room in ?room= admits guests; absent without ?room=. */
  guests: Type.Optional(Type.Boolean()),
});
const IssueBody = Type.Object(
  {
    room: Type.Union([RoomName, Type.Literal('*')]),
    role: RoleSchema,
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    displayName: Type.Optional(DisplayName),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60 })),
  },
  { additionalProperties: false },
);
const IssueReply = Type.Object({
  token: Type.String(),
  expiresAt: Type.String(),
  /** The link to hand out; the token is in the fragment so it never reaches a server log. Absent for room '*'. */
  url: Type.Optional(Type.String()),
});

function httpError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

/** Register /auth/login, /auth/callback, /auth/logout, /auth/session and POST /admin/tokens. */
export async function authRoutes(app: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  const { authenticator, config } = options;
  const publicUrl = config.http.publicUrl;
  if (!app.hasReplyDecorator('setCookie')) await app.register(fastifyCookie);

  const origin = (request: FastifyRequest) => publicUrl ?? `${request.protocol}://${request.host}`;
  const redirectUrl = (request: FastifyRequest) => config.auth.oidc?.redirectUrl ?? `${origin(request)}/auth/callback`;
  const cookieOptions = (request: FastifyRequest, path: string, maxAge: number): CookieSerializeOptions => ({
    path,
    maxAge,
    httpOnly: true,
    // Lax, not Strict: the IdP's redirect back to /auth/callback is a cross-site navigation.
    sameSite: 'lax',
    secure: publicUrl ? publicUrl.startsWith('https://') : request.protocol === 'https',
  });

  app.get<{ Querystring: Static<typeof LoginQuery> }>('/auth/login', { schema: { querystring: LoginQuery } }, async (request, reply) => {
    const oidc = authenticator.oidc;
    if (!oidc) throw httpError(404, 'not_configured', 'sign-in is not configured on this server');
    let started: Awaited<ReturnType<typeof oidc.begin>>;
    try {
      started = await oidc.begin(request.query.room, redirectUrl(request));
    } catch (error) {
      // Replied here rather than thrown: the error handler turns every 5xx into "internal", and
      // "the university's sign-in is unreachable" is what the person needs to know.
      request.log.error({ err: error }, 'cannot start OpenID Connect sign-in');
      return reply.code(503).send(httpErrorBody('idp_unavailable', 'the identity provider cannot be reached; try again shortly'));
    }
    const sealed = await authenticator.sessions.sealLogin(started.pending);
    return reply
      .header('cache-control', 'no-store')
      .setCookie(LOGIN_COOKIE, sealed, cookieOptions(request, '/auth', LOGIN_TTL_SECONDS))
      .redirect(started.url.href, 302);
  });

  app.get<{ Querystring: Static<typeof CallbackQuery> }>('/auth/callback', { schema: { querystring: CallbackQuery } }, async (request, reply) => {
    const oidc = authenticator.oidc;
    if (!oidc) throw httpError(404, 'not_configured', 'sign-in is not configured on this server');
    // Single use: whatever happens next, this sign-in attempt is over.
    reply.clearCookie(LOGIN_COOKIE, { path: '/auth' });
    const pending = await authenticator.sessions.openLogin(request.cookies[LOGIN_COOKIE]);
    if (!pending) throw new AuthError('unauthorized', 'no sign-in in progress in this browser, or it took too long; start again');
    const callbackUrl = new URL(redirectUrl(request));
    callbackUrl.search = new URL(request.url, 'http://placeholder').search;
    const identity = await oidc.complete(callbackUrl, pending);
    const session = await authenticator.sessions.sealSession(identity);
    request.log.info({ role: identity.role, room: pending.room }, 'signed in with OpenID Connect');
    return reply
      .header('cache-control', 'no-store')
      .setCookie(SESSION_COOKIE, session, cookieOptions(request, '/', authenticator.sessions.ttlSeconds))
      .redirect(`/r/${encodeURIComponent(pending.room)}`, 302);
  });

  app.post('/auth/logout', async (_request, reply) => {
    // Ends the Lectern session only; the IdP session (single sign-on) is the IdP's to end.
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).code(204).send();
  });

  app.get<{ Querystring: Static<typeof SessionQuery> }>(
    '/auth/session',
    { schema: { querystring: SessionQuery, response: { 200: SessionReply } } },
    async (request, reply): Promise<Static<typeof SessionReply>> => {
      const room = request.query.room;
      const identity = await authenticator.identityFromRequest(request, room ?? '*');
      void reply.header('cache-control', 'no-store');
      const result: Static<typeof SessionReply> = {
        identity: identity ? { subject: identity.subject, displayName: identity.displayName, role: identity.role, via: identity.via } : null,
        signIn: authenticator.oidc !== undefined,
      };
      if (room !== undefined) result.guests = authenticator.guestIdentity(room) !== undefined;
      return result;
    },
  );

  app.post<{ Body: Static<typeof IssueBody> }>(
    '/admin/tokens',
    { schema: { body: IssueBody, response: { 200: IssueReply } }, onRequest: requireAdmin(authenticator) },
    async (request): Promise<Static<typeof IssueReply>> => {
      if (!authenticator.canIssueTokens) throw httpError(409, 'not_configured', 'this server issues no links: tokens come from the university (auth.tokens.trustedKeys)');
      const ttlSeconds = request.body.ttlSeconds ?? config.auth.tokens.defaultTtlSeconds;
      if (ttlSeconds > config.auth.tokens.maxTtlSeconds) {
        throw httpError(400, 'invalid_request', `ttlSeconds must be at most ${config.auth.tokens.maxTtlSeconds}`);
      }
      const token = await authenticator.issueRoomToken({ ...request.body, ttlSeconds });
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
      request.log.info({ room: request.body.room, role: request.body.role, ttlSeconds }, 'room link issued');
      const { room } = request.body;
      return room === '*' ? { token, expiresAt } : { token, expiresAt, url: `${origin(request)}/r/${encodeURIComponent(room)}#token=${token}` };
    },
  );
}

function requireAdmin(authenticator: Authenticator) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!authenticator.isAdmin(request)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new AuthError('unauthorized', 'an admin token is required (Authorization: Bearer <token>)');
    }
  };
}
