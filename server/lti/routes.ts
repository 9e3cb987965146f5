// HTTP side of LTI 1.3: the tool's key set, the OIDC login initiation (GET and POST) and the launch
// (form_post). Bodies and queries are checked against TypeBox schemas here, by hand rather than by
// Fastify's validator, because Fastify's default Ajv drops unknown keys silently instead of refusing
// them, and because a refusal must be a page the person can read inside the LMS, not JSON.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fastifyCookie, type CookieSerializeOptions } from '@fastify/cookie';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { LecternConfig } from '../../config/index.js';
import { STATE_TTL_SECONDS, stateCookieName } from './LaunchStates.js';
import { LtiError, type LtiErrorCode } from './LtiError.js';
import type { LtiTool } from './LtiTool.js';
import { deepLinkingPage, refusalPage } from './page.js';
import { allowFormPostTo } from '../plugins/securityHeaders.js';

/** Where the LMS sends the browser: the OIDC login initiation URL and the redirect (launch) URL. */
export const LTI_PATHS = { login: '/lti/login', launch: '/lti/launch', jwks: '/.well-known/jwks.json' } as const;

// Login initiation (LTI 1.3 §4.1, 1EdTech Security Framework §5.1.1.1). Unknown parameters are
// refused; the three below are sent by real LMSes, are accepted and are not used: LTI Platform
// Storage's target frame (Canvas, Moodle 4.x) and Canvas's region and environment hints.
const LoginParams = Type.Object(
  {
    iss: Type.String({ minLength: 1, maxLength: 512 }),
    login_hint: Type.String({ minLength: 1, maxLength: 2048 }),
    target_link_uri: Type.String({ minLength: 1, maxLength: 2048 }),
    lti_message_hint: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    lti_deployment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    lti_storage_target: Type.Optional(Type.String({ maxLength: 256 })),
    canvas_region: Type.Optional(Type.String({ maxLength: 64 })),
    canvas_environment: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

// The authentication response, form_post: an id_token, or an OIDC error (prompt=none may be refused).
const LaunchBody = Type.Object(
  {
    // Lectern's states are base64url (LaunchStates); anything else could not even name a cookie.
    state: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }),
    id_token: Type.Optional(Type.String({ minLength: 1, maxLength: 32 * 1024 })),
    error: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 1024 })),
    lti_storage_target: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

const loginCheck = TypeCompiler.Compile(LoginParams);
const launchCheck = TypeCompiler.Compile(LaunchBody);

/** What ltiRoutes needs. */
export interface LtiRoutesOptions {
  tool: LtiTool;
  config: LecternConfig;
}

/** Register /.well-known/jwks.json, GET+POST /lti/login and POST /lti/launch. */
export async function ltiRoutes(app: FastifyInstance, options: LtiRoutesOptions): Promise<void> {
  const { tool, config } = options;
  if (!app.hasReplyDecorator('setCookie')) await app.register(fastifyCookie);
  const origin = (request: FastifyRequest) => config.http.publicUrl ?? `${request.protocol}://${request.host}`;

  // Forms from the LMS. A repeated key is kept as a list, which the schema then refuses by name.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const fields: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const seen = fields[key];
      fields[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    done(null, fields);
  });

  // Errors of these routes become pages; elsewhere server/httpErrors.ts answers JSON.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof LtiError) {
      request.log.warn({ code: error.code, reason: error.message, cause: error.cause instanceof Error ? error.cause.message : undefined }, 'LTI request refused');
      return sendPage(reply, error.statusCode, error.code, error.message);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendPage(reply, status, 'invalid_request', error.message);
    request.log.error({ err: error }, 'LTI request failed');
    return sendPage(reply, 500, 'invalid_request', 'Lectern could not handle this launch (an internal error, logged)');
  });

  app.get(LTI_PATHS.jwks, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(tool.keys.jwks));

  const login = async (request: FastifyRequest, reply: FastifyReply, params: unknown) => {
    const initiation = validated(loginCheck, params, 'login initiation');
    const { url, pending, sealed } = await tool.beginLogin(initiation, `${origin(request)}${LTI_PATHS.launch}`);
    return reply
      .header('cache-control', 'no-store')
      .setCookie(stateCookieName(pending.state), sealed, stateCookie(STATE_TTL_SECONDS))
      .redirect(url.href, 302);
  };
  const frameable = { config: { frameable: true } };
  app.get(LTI_PATHS.login, frameable, async (request, reply) => login(request, reply, request.query));
  app.post(LTI_PATHS.login, frameable, async (request, reply) => login(request, reply, request.body));

  app.post(LTI_PATHS.launch, frameable, async (request, reply) => {
    const body: Static<typeof LaunchBody> = validated(launchCheck, request.body, 'launch');
    const cookieName = stateCookieName(body.state);
    // Single use: whatever happens next, this login is over.
    void reply.clearCookie(cookieName, stateCookie(0));
    const pending = await tool.states.open(request.cookies[cookieName], body.state);
    if (!pending) throw new LtiError('state_missing', 'this browser did not bring back the launch’s state cookie');
    if (body.error !== undefined) {
      throw new LtiError('platform_error', `the LMS did not sign you in (${body.error}${body.error_description ? `: ${body.error_description}` : ''})`);
    }
    if (body.id_token === undefined) throw new LtiError('invalid_request', 'the launch field id_token is missing');
    const result = await tool.launch(body.id_token, pending, `${origin(request)}${LTI_PATHS.launch}`);
    if (result.kind === 'deepLinking') {
      // The answer goes back to the LMS: this one page's form may post there.
      allowFormPostTo(reply, result.returnUrl.origin);
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(deepLinkingPage(result.returnUrl, result.jwt, result.title));
    }
    // 303: the browser follows with a GET to the class page; the fragment never reaches a server log.
    return reply.header('cache-control', 'no-store').redirect(result.location, 303);
  });
}

// Works inside the LMS's frame: a cross-site POST carries only SameSite=None cookies, which must
// be Secure (browsers treat http://localhost and 127.0.0.1 as secure), and Partitioned keeps it in
// the LMS's partition where browsers block other third-party cookies.
function stateCookie(maxAge: number): CookieSerializeOptions {
  return { path: '/lti', maxAge, httpOnly: true, secure: true, sameSite: 'none', partitioned: true };
}

function validated<T extends TSchema>(check: TypeCheck<T>, data: unknown, what: string): Static<T> {
  if (check.Check(data)) return data;
  const first = check.Errors(data).First();
  const field = first?.path.replace(/^\//, '').split('/')[0];
  if (!first || !field) throw new LtiError('invalid_request', `the ${what} request has no parameters`);
  const unknown = first.message === 'Unexpected property';
  throw new LtiError('invalid_request', unknown ? `the ${what} parameter ${field} is not accepted` : `the ${what} parameter ${field} is missing or wrong (${first.message})`);
}

function sendPage(reply: FastifyReply, status: number, code: LtiErrorCode, message: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(refusalPage(code, message));
}
