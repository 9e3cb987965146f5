// Helpers for the sign-in tests: a Lectern with only the auth routes, a real OpenID Connect provider
// in a child process, a free port, and a cookie jar for driving redirects with fetch.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseConfig, type LecternConfig } from '../../config/index.js';
import { httpErrorHandler } from '../../server/httpErrors.js';
import { Authenticator, authRoutes } from '../../server/auth/index.js';

/** A config with defaults applied, from a partial object (throws ConfigError when invalid). */
export function configWith(input: Record<string, unknown> = {}): LecternConfig {
  return parseConfig(input);
}

/** Fastify with the real error handler and the auth routes, as server/app.ts will have them. */
export async function buildAuthApp(config: LecternConfig): Promise<{ app: FastifyInstance; authenticator: Authenticator }> {
  const app = Fastify({ logger: false });
  app.setErrorHandler(httpErrorHandler);
  const authenticator = await Authenticator.create(config.auth, app.log);
  await app.register(authRoutes, { authenticator, config });
  return { app, authenticator };
}

/** A port nobody is listening on right now (the OIDC client must be registered before Lectern listens). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Lectern's auth routes on a real socket, signing in through a real oidc-provider process. */
export interface OidcSignIn {
  /** Lectern's origin, http://127.0.0.1:<port> */
  lectern: string;
  provider: TestProvider;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Start the provider with a client for Lectern, then Lectern's auth routes configured for it
 * (instructors: group lectern-instructors; students: students-2025; anyone else refused), plus
 * a stand-in room page to land on after sign-in.
 */
export async function startOidcSignIn(clientSecret: string): Promise<OidcSignIn> {
  const port = await freePort();
  const lectern = `http://127.0.0.1:${port}`;
  const provider = await startProvider(`${lectern}/auth/callback`, clientSecret);
  try {
    const config = configWith({
      http: { publicUrl: lectern },
      auth: {
        oidc: {
          issuer: provider.issuer,
          clientId: 'lectern',
          clientSecret,
          scopes: 'openid profile groups',
          roleClaim: 'groups',
          instructorValues: ['lectern-instructors'],
          studentValues: ['students-2025'],
          otherwise: 'refuse',
        },
      },
    });
    const { app } = await buildAuthApp(config);
    app.get('/r/:room', async (_request, reply) => reply.type('text/html').send('<!doctype html><title>room</title>'));
    await app.listen({ host: '127.0.0.1', port });
    return {
      lectern,
      provider,
      app,
      async close() {
        await app.close();
        await provider.close();
      },
    };
  } catch (error) {
    await provider.close();
    throw error;
  }
}

/** The oidc-provider child process. */
export interface TestProvider {
  issuer: string;
  close(): Promise<void>;
}

/** Start tests/auth/oidcProvider.mjs with a client registered for `redirectUri`. */
export async function startProvider(redirectUri: string, clientSecret: string): Promise<TestProvider> {
  const script = fileURLToPath(new URL('./oidcProvider.mjs', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [script, redirectUri, clientSecret], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { issuer: string }).issuer));
    child.once('exit', (code) => reject(new Error(`oidc provider exited (${code}): ${stderr}`)));
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Cookies per origin, enough for following redirects between Lectern and the IdP. Paths are ignored. */
export class CookieJar {
  readonly #jars = new Map<string, Map<string, string>>();

  /** Remember the Set-Cookie headers of a response from `url`. */
  store(url: string, response: Response): void {
    const jar = this.#jar(url);
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** The Cookie header to send to `url`. */
  header(url: string): string {
    return [...this.#jar(url)].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  get(url: string, name: string): string | undefined {
    return this.#jar(url).get(name);
  }

  set(url: string, name: string, value: string): void {
    this.#jar(url).set(name, value);
  }

  #jar(url: string): Map<string, string> {
    const origin = new URL(url).origin;
    let jar = this.#jars.get(origin);
    if (!jar) this.#jars.set(origin, (jar = new Map()));
    return jar;
  }
}

/** One request with the jar's cookies, no redirect following; stores the response's cookies. */
export async function send(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, response);
  return response;
}

/** The absolute Location of a redirect response (fails the test if it is not a redirect). */
export function location(response: Response, base: string): string {
  const value = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || !value) {
    throw new Error(`expected a redirect from ${base}, got ${response.status}`);
  }
  return new URL(value, base).href;
}
