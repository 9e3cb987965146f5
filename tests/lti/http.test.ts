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
