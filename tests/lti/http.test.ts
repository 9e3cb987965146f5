// LTI 1.3 at the HTTP level: a real Lectern on 127.0.0.1, the LMS in its own process, and the
// browser's part (forms, redirects, cookies) played by fetch with a cookie jar. The browser run
// itself, framed in the LMS page, is in launch.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, location, send } from '../auth/support.js';
import type { TestLectern } from '../helpers/lectern.js';
import { startLtiLectern, startPlatform, type TestPlatform } from './support.js';

let platform: TestPlatform;
let lectern: TestLectern;

beforeAll(async () => {
  platform = await startPlatform();
  lectern = await startLtiLectern(platform);
}, 60_000);

afterAll(async () => {
  await lectern?.close();
  await platform?.close();
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function loginFields(user: string, testCase: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    iss: platform.issuer,
    login_hint: user,
    target_link_uri: `${lectern.url}/lti/launch`,
    lti_message_hint: testCase,
    client_id: platform.clientId,
    ...(testCase === 'unknown-deployment' ? {} : { lti_deployment_id: platform.deploymentId }),
    ...extra,
  };
}

/** The hidden fields of the LMS's form_post page. */
function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[match[1]!] = match[2]!.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  return fields;
}

/** Login initiation and the LMS's authentication answer: the form the browser would post to Lectern. */
async function throughPlatform(jar: CookieJar, user: string, testCase = 'ok'): Promise<{ login: Response; form: Record<string, string> }> {
  const login = await send(jar, `${lectern.url}/lti/login`, { method: 'POST', headers: FORM, body: new URLSearchParams(loginFields(user, testCase)).toString() });
  const auth = await send(jar, location(login, lectern.url));
  expect(auth.status, await auth.clone().text()).toBe(200);
  return { login, form: formFields(await auth.text()) };
}

async function postLaunch(jar: CookieJar, form: Record<string, string>): Promise<Response> {
  return send(jar, `${lectern.url}/lti/launch`, { method: 'POST', headers: FORM, body: new URLSearchParams(form).toString() });
}

async function launch(user: string, testCase = 'ok'): Promise<Response> {
  const jar = new CookieJar();
  const { form } = await throughPlatform(jar, user, testCase);
  return postLaunch(jar, form);
}

/** The room and the verified identity a successful launch's redirect carries. */
async function landing(response: Response) {
  expect(response.status, await response.clone().text()).toBe(303);
  const target = response.headers.get('location')!;
  const match = /^\/r\/([^#]+)#token=(.+)$/.exec(target);
  expect(match, target).toBeTruthy();
  const room = decodeURIComponent(match![1]!);
  return { room, identity: await lectern.authenticator.verifyRoomToken(match![2]!, room), token: match![2]! };
}

function auditLaunches(): Array<Record<string, unknown>> {
  const lines = readFileSync(join(lectern.config.audit.dir, 'audit.jsonl'), 'utf8').trim().split('\n');
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.action === 'lti.launched');
}

async function refusal(response: Response): Promise<{ status: number; code: string | undefined; text: string }> {
  const text = await response.text();
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  return { status: response.status, code: /data-lti-error="([^"]+)"/.exec(text)?.[1], text };
}

describe('the tool side of an LTI 1.3 registration', () => {
  it('publishes its RSA public key (and nothing private) at /.well-known/jwks.json', async () => {
    const response = await fetch(`${lectern.url}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(keys[0]!.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(keys[0]).not.toHaveProperty(secret);
  });

  it('answers a login initiation with the OIDC authentication request and a framed-safe state cookie', async () => {
    const jar = new CookieJar();
    const login = await send(jar, `${lectern.url}/lti/login`, { method: 'POST', headers: FORM, body: new URLSearchParams(loginFields('ada', 'ok')).toString() });
    expect(login.status).toBe(302);
    const target = new URL(location(login, lectern.url));
    expect(`${target.origin}${target.pathname}`).toBe(platform.authLoginUrl);
    const params = Object.fromEntries(target.searchParams);
    expect(params).toMatchObject({
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: platform.clientId,
      redirect_uri: `${lectern.url}/lti/launch`,
      login_hint: 'ada',
      lti_message_hint: 'ok',
    });
    expect(params.state).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(params.nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith(`lectern_lti_${params.state}=`));
    expect(cookie).toBeTruthy();
    for (const attribute of [/; HttpOnly/i, /; Secure/i, /; SameSite=None/i, /; Partitioned/i, /; Path=\/lti/i, /; Max-Age=600/i]) expect(cookie).toMatch(attribute);
  });

  it('accepts the login initiation as GET too', async () => {
    const login = await send(new CookieJar(), `${lectern.url}/lti/login?${new URLSearchParams(loginFields('ben', 'ok'))}`);
    expect(login.status).toBe(302);
    expect(location(login, lectern.url).startsWith(platform.authLoginUrl)).toBe(true);
  });
});

describe('a valid launch', () => {
  it('makes the course instructor an instructor, named by the LMS, in the room of that course activity', async () => {
    const { room, identity, token } = await landing(await launch('ada'));
    expect(room).toMatch(/^lti-[0-9a-f]{32}$/);
    expect(identity).toMatchObject({ role: 'instructor', displayName: 'Ada Lovelace', via: 'token', room });
    // The LMS's user id is not in the link; the subject is a keyed pseudonym of it.
    expect(identity.subject).toMatch(/^lti:[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(token.split('.')[1]!, 'base64url').toString()).not.toContain('user-ada');
    // The course title is what the page shows as the class's name.
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ title: 'Physics 101: Mechanics' });
  });

  it('makes a learner a student in the same room, named from given and family name', async () => {
    const instructor = await landing(await launch('ada'));
    const learner = await landing(await launch('ben'));
    expect(learner.room).toBe(instructor.room);
    expect(learner.identity).toMatchObject({ role: 'student', displayName: 'Ben Okafor' });
    expect(learner.identity.subject).not.toBe(instructor.identity.subject);
    // The same person launching again is the same subject (so a removal sticks).
    expect((await landing(await launch('ada'))).identity.subject).toBe(instructor.identity.subject);
  });

  it('maps a teaching assistant to instructor and any other role to guest', async () => {
    expect((await landing(await launch('tess'))).identity.role).toBe('instructor');
    const mentor = await landing(await launch('obi'));
    expect(mentor.identity.role).toBe('guest');
    // No name in the launch: none in the link, so the person types one.
    expect(mentor.identity.displayName).toBeUndefined();
  });

  it('writes every launch to the audit log: issuer, deployment, mapped role, a pseudonym for the person', async () => {
    const before = auditLaunches().length;
    await landing(await launch('ben'));
    // Appends are written and synced in the background of the launch.
    await expect.poll(() => auditLaunches().length).toBe(before + 1);
    const launches = auditLaunches();
    const last = launches.at(-1)!;
    expect(last.details).toEqual({ issuer: platform.issuer, deployment: platform.deploymentId, actorRole: 'student' });
    expect(last.subject).toMatch(/^room:lti-[0-9a-f]{32}$/);
    expect(last.actor).toMatch(/^user:p:/);
    expect(JSON.stringify(launches)).not.toMatch(/user-ben|Okafor|lti:/);
  });
});

describe('a launch refused with a page that says why', () => {
  it('refuses a tampered signature', async () => {
    expect(await refusal(await launch('ben', 'tampered'))).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('refuses a token for another audience', async () => {
    const page = await refusal(await launch('ada', 'wrong-aud'));
    expect(page).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(page.text).toContain('aud');
  });

  it('refuses an expired token', async () => {
    const page = await refusal(await launch('ada', 'expired'));
    expect(page).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(page.text).toContain('expired');
  });

  it('refuses a deployment that is not registered', async () => {
    expect(await refusal(await launch('ada', 'unknown-deployment'))).toMatchObject({ status: 403, code: 'unknown_deployment' });
  });

  it('refuses the same launch posted twice, even with its state cookie (nonce used once)', async () => {
    const jar = new CookieJar();
    const { form } = await throughPlatform(jar, 'ada');
    const cookieName = `lectern_lti_${form.state}`;
    const cookie = jar.get(lectern.url, cookieName)!;
    await landing(await postLaunch(jar, form));
    expect(jar.get(lectern.url, cookieName)).toBeUndefined(); // the state cookie is single use too
    jar.set(lectern.url, cookieName, cookie); // an attacker who kept both
    expect(await refusal(await postLaunch(jar, form))).toMatchObject({ status: 401, code: 'replayed' });
  });

  it('refuses an earlier id_token replayed into a new login (not this login’s nonce)', async () => {
    await landing(await launch('ada', 'ok'));
    expect(await refusal(await launch('ada', 'replay'))).toMatchObject({ status: 401, code: 'replayed' });
  });

  it('refuses a launch whose state cookie did not come back, with advice', async () => {
    const jar = new CookieJar();
    const { form } = await throughPlatform(jar, 'ada');
    const page = await refusal(await postLaunch(new CookieJar(), form));
    expect(page).toMatchObject({ status: 400, code: 'state_missing' });
    expect(page.text).toContain('new window');
    // A state cookie of another login does not stand in for this one.
    const other = new CookieJar();
    const second = await throughPlatform(other, 'ada');
    other.set(lectern.url, `lectern_lti_${form.state}`, other.get(lectern.url, `lectern_lti_${second.form.state}`)!);
    expect(await refusal(await postLaunch(other, form))).toMatchObject({ status: 400, code: 'state_missing' });
  });

  it('shows the LMS’s own error when it answers the authentication request with one', async () => {
    const jar = new CookieJar();
    const { form } = await throughPlatform(jar, 'ada');
    const page = await refusal(await postLaunch(jar, { state: form.state!, error: 'login_required', error_description: 'no LMS session' }));
    expect(page).toMatchObject({ status: 400, code: 'platform_error' });
    expect(page.text).toContain('login_required: no LMS session');
  });
});

describe('login initiation and launch parameters are checked strictly', () => {
  async function login(fields: Record<string, string> | URLSearchParams) {
    return refusal(await send(new CookieJar(), `${lectern.url}/lti/login`, { method: 'POST', headers: FORM, body: new URLSearchParams(fields).toString() }));
  }

  it('refuses an issuer or client id that is not registered', async () => {
    expect(await login(loginFields('ada', 'ok', { iss: 'https://lms.elsewhere.example' }))).toMatchObject({ status: 400, code: 'unknown_platform' });
    expect(await login(loginFields('ada', 'ok', { client_id: 'someone-else' }))).toMatchObject({ status: 400, code: 'unknown_platform' });
  });

  it('refuses a login initiation naming an unregistered deployment before going to the LMS', async () => {
    expect(await login(loginFields('ada', 'ok', { lti_deployment_id: 'dep-9' }))).toMatchObject({ status: 403, code: 'unknown_deployment' });
  });

  it('names a missing, unknown or repeated parameter', async () => {
    const { login_hint: _, ...noHint } = loginFields('ada', 'ok');
    const missing = await login(noHint);
    expect(missing).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(missing.text).toContain('login_hint');

    const unknown = await login(loginFields('ada', 'ok', { launch_presentation: 'iframe' }));
    expect(unknown).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(unknown.text).toContain('launch_presentation is not accepted');

    const repeated = new URLSearchParams(loginFields('ada', 'ok'));
    repeated.append('iss', platform.issuer);
    const twice = await login(repeated);
    expect(twice).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(twice.text).toContain('parameter iss');
  });

  it('accepts the extra parameters real LMSes send (platform storage, Canvas hints)', async () => {
    const response = await send(new CookieJar(), `${lectern.url}/lti/login`, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams(loginFields('ada', 'ok', { lti_storage_target: '_parent', canvas_region: 'eu-central-1', canvas_environment: 'prod' })).toString(),
    });
    expect(response.status).toBe(302);
  });

  it('refuses a launch with unknown fields or no id_token, and a target_link_uri that is no URL', async () => {
    const jar = new CookieJar();
    const { form } = await throughPlatform(jar, 'ada');
    const extra = await refusal(await postLaunch(jar, { ...form, role: 'instructor' }));
    expect(extra).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(extra.text).toContain('role is not accepted');
    const again = new CookieJar();
    const second = await throughPlatform(again, 'ada');
    const noToken = await refusal(await postLaunch(again, { state: second.form.state! }));
    expect(noToken).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(noToken.text).toContain('id_token');
    expect(await login(loginFields('ada', 'ok', { target_link_uri: 'not a url' }))).toMatchObject({ status: 400, code: 'invalid_request' });
    // A state no login made (it could not even name a cookie) is a bad request, not a server error.
    const badState = await refusal(await postLaunch(new CookieJar(), { state: 'a b;c', id_token: 'x' }));
    expect(badState).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(badState.text).toContain('parameter state');
  });
});

describe('framing', () => {
  it('lets the registered LMS frame the class page and the launch, and nothing else frame anything', async () => {
    const room = await fetch(`${lectern.url}/r/lti-0123456789abcdef0123456789abcdef`);
    const csp = room.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`frame-ancestors 'self' ${platform.issuer}`);
    expect(room.headers.get('x-frame-options')).toBeNull();
    // The rest of the policy is unchanged on framed pages.
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");

    const refused = await fetch(`${lectern.url}/lti/launch`, { method: 'POST', headers: FORM, body: 'state=x' });
    expect(refused.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${platform.issuer}`);

    const landingPage = await fetch(`${lectern.url}/`);
    expect(landingPage.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(landingPage.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});

describe('Deep Linking: an instructor adds a Lectern class to the course', () => {
  it('answers with one resource link, signed with the tool key, that the LMS verifies against /.well-known/jwks.json', async () => {
    const response = await launch('ada', 'deeplink');
    expect(response.status).toBe(200);
    const html = await response.text();
    const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
    expect(action).toBe(`${platform.issuer}/deeplink-return`);
    // The page's policy lets its form post to the LMS, and to nowhere else.
    expect(response.headers.get('content-security-policy')).toContain(`form-action 'self' ${platform.issuer}`);
    const jwt = /name="JWT" value="([^"]+)"/.exec(html)![1]!;
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: platform.clientId,
      aud: platform.issuer,
      'https://purl.imsglobal.org/spec/lti-dl/claim/content_items': [{ type: 'ltiResourceLink', title: 'Lectern class: Physics 101: Mechanics', url: `${lectern.url}/lti/launch` }],
    });
    // The LMS process checks the answer itself.
    const answered = await fetch(action!, { method: 'POST', headers: FORM, body: new URLSearchParams({ JWT: jwt }).toString() });
    expect(await answered.text()).toContain('Added: Lectern class: Physics 101: Mechanics');
    const forged = await fetch(action!, { method: 'POST', headers: FORM, body: new URLSearchParams({ JWT: `${jwt.slice(0, -6)}AAAAAA` }).toString() });
    expect(forged.status).toBe(400);
  });

  it('is refused to a learner, and to a return URL off the LMS’s origin', async () => {
    expect(await refusal(await launch('ben', 'deeplink'))).toMatchObject({ status: 403, code: 'forbidden' });
    const elsewhere = await refusal(await launch('ada', 'deeplink-elsewhere'));
    expect(elsewhere).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(elsewhere.text).toContain('return URL');
  });
});
