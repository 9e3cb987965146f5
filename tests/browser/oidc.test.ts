// OpenID Connect sign-in in real Chromium: the IdP's own form, the redirects back, and a session
// cookie the page's scripts cannot read. The fetch-driven protocol cases are tests/auth/oidc.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { startOidcSignIn, type OidcSignIn } from '../auth/support.js';

const CLIENT_SECRET = 'lectern-test-client-secret-0123456789';
const ROOM = 'physics-101';

let oidc: OidcSignIn;
let browser: Browser;
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  oidc = await startOidcSignIn(CLIENT_SECRET);
  browser = await launchChromium();
}, 60_000);

afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  await browser?.close();
  await oidc?.close();
});

describe('OpenID Connect sign-in in Chromium', () => {
  it('signs an instructor in through the IdP form and keeps them signed in across a reload', async () => {
    const { lectern } = oidc;
    const context = await browser.newContext();
    try {
      const page = pageErrors.watch(await context.newPage(), 'ada');
      await page.goto(`${lectern}/auth/login?room=${ROOM}`);
      await page.fill('input[name=login]', 'ada');
      await page.fill('input[name=password]', 'any');
      await Promise.all([page.waitForURL(`${lectern}/r/${ROOM}`), page.click('button[type=submit]')]);
      const whoAmI = () => page.evaluate(async (room) => (await fetch(`/auth/session?room=${room}`)).json(), ROOM);
      expect(await whoAmI()).toMatchObject({ identity: { subject: 'ada', role: 'instructor', via: 'oidc' } });
      await page.reload();
      expect(await whoAmI()).toMatchObject({ identity: { role: 'instructor' } });
      // HttpOnly: the page's own scripts cannot read the session.
      expect(await page.evaluate(() => document.cookie)).not.toContain('lectern_session');
    } finally {
      await context.close();
    }
  }, 60_000);
});
