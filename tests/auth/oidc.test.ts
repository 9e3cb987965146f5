// OpenID Connect sign-in end to end: a real oidc-provider process, Lectern's auth routes on a real
// socket, and the browser's part (redirects, forms, cookies) played by fetch with a cookie jar.
// The same sign-in in Chromium is tests/browser/oidc.test.ts (the browser project).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, location, send, startOidcSignIn, type OidcSignIn, type TestProvider } from './support.js';

const CLIENT_SECRET = 'lectern-test-client-secret-0123456789';
const ROOM = 'physics-101';

let oidc: OidcSignIn;
let provider: TestProvider;
let lectern: string;

beforeAll(async () => {
  oidc = await startOidcSignIn(CLIENT_SECRET);
  ({ provider, lectern } = oidc);
});

afterAll(async () => {
  await oidc?.close();
});

/** Everything up to the IdP sending the browser back to /auth/callback; returns that URL. */
async function throughIdp(jar: CookieJar, login: string): Promise<URL> {
  const start = await send(jar, `${lectern}/auth/login?room=${ROOM}`);
  const authorize = location(start, lectern);
  expect(authorize.startsWith(provider.issuer)).toBe(true);
  const params = new URL(authorize).searchParams;
  expect(params.get('code_challenge_method')).toBe('S256');
  expect(params.get('state')).toBeTruthy();
  expect(params.get('nonce')).toBeTruthy();
  expect(start.headers.getSetCookie().join()).toMatch(/lectern_login=.*HttpOnly.*SameSite=Lax/i);

  const interaction = location(await send(jar, authorize), authorize);
  const form = await send(jar, interaction);
  expect(form.status).toBe(200);
  const action = /<form[^>]*action="([^"]+)"/.exec(await form.text())?.[1];
  expect(action).toBeTruthy();
  const submitUrl = new URL(action!, interaction).href;
  const submitted = await send(jar, submitUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
  });
  // Resume the authorization request, which ends in the redirect back to Lectern.
  let url = location(submitted, submitUrl);
  while (!url.startsWith(lectern)) url = location(await send(jar, url), url);
  return new URL(url);
}

/** Sign in as `login` and return the jar holding Lectern's session cookie. */
async function signIn(login: string): Promise<{ jar: CookieJar; callback: Response }> {
  const jar = new CookieJar();
  const callbackUrl = await throughIdp(jar, login);
  const callback = await send(jar, callbackUrl.href);
  return { jar, callback };
}

async function session(jar: CookieJar) {
  const response = await send(jar, `${lectern}/auth/session?room=${ROOM}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { identity: { role: string; subject: string; displayName?: string; via: string } | null; signIn: boolean; guests?: boolean };
}

describe('OpenID Connect sign-in against a real provider', () => {
  it('makes a member of the instructor group an instructor, and the session survives a reload', async () => {
    const { jar, callback } = await signIn('ada');
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe(`/r/${ROOM}`);
    const cookie = callback.headers.getSetCookie().find((c) => c.startsWith('lectern_session='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i); // publicUrl is http here; https deployments get Secure
    expect(jar.get(lectern, 'lectern_login')).toBeUndefined(); // the sign-in state is single use

    const first = await session(jar);
    expect(first.identity).toEqual({ subject: 'ada', displayName: 'Ada Instructor', role: 'instructor', via: 'oidc' });
    expect(first.signIn).toBe(true);
    // A reload: a new request carrying only the cookie.
    const reload = await session(jar);
    expect(reload.identity?.role).toBe('instructor');
  });

  it('makes a member of the student group a student', async () => {
    const { jar, callback } = await signIn('ben');
    expect(callback.status).toBe(302);
    expect((await session(jar)).identity).toMatchObject({ subject: 'ben', role: 'student', via: 'oidc' });
  });

  it('refuses someone in neither group when otherwise is "refuse"', async () => {
    const { jar, callback } = await signIn('cy');
    expect(callback.status).toBe(403);
    expect(await callback.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await session(jar)).identity).toBeNull();
  });

  it('refuses a callback whose state was tampered with', async () => {
    const jar = new CookieJar();
    const callbackUrl = await throughIdp(jar, 'ada');
    callbackUrl.searchParams.set('state', 'forged-state');
    const callback = await send(jar, callbackUrl.href);
    expect(callback.status).toBe(401);
    expect(await callback.json()).toMatchObject({ error: { code: 'unauthorized' } });
    expect(jar.get(lectern, 'lectern_session')).toBeUndefined();
  });

  it('refuses a callback whose sign-in cookie was tampered with', async () => {
    const jar = new CookieJar();
    const callbackUrl = await throughIdp(jar, 'ada');
    const sealed = jar.get(lectern, 'lectern_login')!;
    // Swap the room inside the signed payload for another: the signature no longer matches.
    const [header, payload, signature] = sealed.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, room: 'other-room' })).toString('base64url');
    jar.set(lectern, 'lectern_login', `${header}.${forged}.${signature}`);
    const callback = await send(jar, callbackUrl.href);
    expect(callback.status).toBe(401);
    expect(jar.get(lectern, 'lectern_session')).toBeUndefined();
  });

  it('refuses a callback from a browser that never started a sign-in (login CSRF)', async () => {
    const victim = new CookieJar();
    const attacker = new CookieJar();
    const callbackUrl = await throughIdp(attacker, 'ada');
    const callback = await send(victim, callbackUrl.href);
    expect(callback.status).toBe(401);
    expect(victim.get(lectern, 'lectern_session')).toBeUndefined();
  });

  it('refuses a forged session cookie and ends a session on logout', async () => {
    const { jar } = await signIn('ada');
    const real = jar.get(lectern, 'lectern_session')!;
    const forgedJar = new CookieJar();
    forgedJar.set(lectern, 'lectern_session', `${real.slice(0, -4)}AAAA`);
    expect((await session(forgedJar)).identity).toBeNull();

    const logout = await send(jar, `${lectern}/auth/logout`, { method: 'POST' });
    expect(logout.status).toBe(204);
    expect((await session(jar)).identity).toBeNull();
  });

  it('validates the login query', async () => {
    const response = await send(new CookieJar(), `${lectern}/auth/login?room=..%2Fetc`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_request' } });
  });
});
