// An LTI 1.3 launch in real Chromium: the course page of the LMS (its own process, on another site:
// http://localhost:<port>, while Lectern is http://127.0.0.1:<port>) frames the activity; the frame
// goes through login initiation, the LMS's auto-submitting form_post and the launch, and lands in
// the class. Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Frame, FrameLocator, Page } from 'playwright-core';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import type { TestLectern } from '../helpers/lectern.js';
import { projectRoot } from '../../server/paths.js';
import { startLtiLectern, startPlatform, type TestPlatform } from './support.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
// Page, server and media share two cores: give round trips time when the machine is loaded.
const SLOW = { timeout: 20_000 };

let platform: TestPlatform;
let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  platform = await startPlatform();
  lectern = await startLtiLectern(platform, 2);
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

// A client that throws inside the LMS frame (e.g. on storage the browser denies there) fails the test.
afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await lectern?.close();
  await platform?.close();
});

async function coursePage(user: string, testCase = 'ok', origin = platform.issuer): Promise<{ page: Page; context: BrowserContext; tool: FrameLocator }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 820 } });
  contexts.push(context);
  const page = await context.newPage();
  pageErrors.watch(page, user);
  await page.goto(`${origin}/course?user=${user}&case=${testCase}`);
  return { page, context, tool: page.frameLocator('#tool') };
}

function toolFrame(page: Page): Frame {
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) throw new Error('the course page has no frame');
  return frame;
}

async function refusalCode(tool: FrameLocator): Promise<string | null> {
  const main = tool.locator('main[data-lti-error]');
  await main.waitFor(SLOW);
  return main.getAttribute('data-lti-error');
}

describe('a course in the LMS opens its class in Lectern', () => {
  let teacher: { page: Page; tool: FrameLocator };

  it('an instructor launch lands in the class, framed by the LMS, as instructor with the LMS’s name', async () => {
    teacher = await coursePage('ada');
    const name = teacher.tool.getByLabel('Your name');
    await name.waitFor(SLOW);
    // The name comes from the LMS and cannot be changed; the class is shown by the course's title.
    expect(await name.inputValue()).toBe('Ada Lovelace');
    expect(await name.getAttribute('readonly')).not.toBeNull();
    expect(await teacher.tool.locator('#prejoin-room').textContent()).toBe('Physics 101: Mechanics');
    expect(new URL(toolFrame(teacher.page).url()).pathname).toMatch(/^\/r\/lti-[0-9a-f]{32}$/);
    // The token left the address bar (it is kept for reloads of this tab only).
    expect(toolFrame(teacher.page).url()).not.toContain('#token=');
    await teacher.tool.getByRole('button', { name: 'Join' }).click();
    await teacher.tool.locator('#call').waitFor({ state: 'visible', ...SLOW });
    await teacher.tool.locator('#instructor-controls').waitFor({ state: 'visible', ...SLOW });
    await teacher.tool.locator('.tile[aria-label="Ada Lovelace (you)"]').waitFor(SLOW);
  }, 60_000);

  it('a learner launch lands in the same room as student, named from given and family name', async () => {
    const learner = await coursePage('ben');
    const name = learner.tool.getByLabel('Your name');
    await name.waitFor(SLOW);
    expect(await name.inputValue()).toBe('Ben Okafor');
    expect(new URL(toolFrame(learner.page).url()).pathname).toBe(new URL(toolFrame(teacher.page).url()).pathname);
    await learner.tool.getByRole('button', { name: 'Join' }).click();
    await learner.tool.locator('#call').waitFor({ state: 'visible', ...SLOW });
    // Each sees the other under the LMS's names; the student has no instructor controls.
    await teacher.tool.locator('.tile[aria-label="Ben Okafor"]').waitFor(SLOW);
    await learner.tool.locator('.tile[aria-label="Ada Lovelace"]').waitFor(SLOW);
    expect(await learner.tool.locator('#instructor-controls').isVisible()).toBe(false);
    await learner.page.screenshot({ path: join(ARTIFACTS, 'lti-learner-in-lms-frame.png') });
    await teacher.page.screenshot({ path: join(ARTIFACTS, 'lti-instructor-in-lms-frame.png') });
  }, 60_000);

  it('a launch without a name lets the person type one', async () => {
    const mentor = await coursePage('obi');
    const name = mentor.tool.getByLabel('Your name');
    await name.waitFor(SLOW);
    expect(await name.getAttribute('readonly')).toBeNull();
    await name.fill('Obi Visitor');
    await mentor.tool.getByRole('button', { name: 'Join' }).click();
    await mentor.tool.locator('#call').waitFor({ state: 'visible', ...SLOW });
    await teacher.tool.locator('.tile[aria-label="Obi Visitor"]').waitFor(SLOW);
  }, 60_000);

  it('keeps the state cookie SameSite=None; Secure on http://127.0.0.1 (a potentially trustworthy origin)', async () => {
    const { context, tool } = await coursePage('ada', 'nocookie');
    await tool.getByRole('button', { name: 'Continue' }).waitFor(SLOW);
    const cookies = (await context.cookies()).filter((c) => c.name.startsWith('lectern_lti_'));
    expect(cookies).toHaveLength(1);
    // Partitioned: kept under the LMS's site, where browsers that block third-party cookies still allow it.
    expect(cookies[0]).toMatchObject({ domain: '127.0.0.1', sameSite: 'None', secure: true, httpOnly: true, path: '/lti', partitionKey: 'http://localhost' });
  }, 30_000);
});

describe('refused launches show a clear page inside the LMS', () => {
  for (const [testCase, code] of [
    ['tampered', 'invalid_token'],
    ['wrong-aud', 'invalid_token'],
    ['expired', 'invalid_token'],
    ['unknown-deployment', 'unknown_deployment'],
    ['replay', 'replayed'],
  ] as const) {
    it(`${testCase}: ${code}`, async () => {
      const { tool } = await coursePage('ben', testCase);
      expect(await refusalCode(tool)).toBe(code);
      await expect.poll(() => tool.locator('h1').textContent()).toBe('The class could not be opened');
    }, 30_000);
  }

  it('missing state cookie (the browser dropped it): state_missing, with what to do', async () => {
    const { page, context, tool } = await coursePage('ada', 'nocookie');
    await tool.getByRole('button', { name: 'Continue' }).waitFor(SLOW);
    await context.clearCookies();
    await tool.getByRole('button', { name: 'Continue' }).click();
    expect(await refusalCode(tool)).toBe('state_missing');
    expect(await tool.locator('main').textContent()).toContain('Open the activity in a new window');
    await page.screenshot({ path: join(ARTIFACTS, 'lti-state-missing.png') });
  }, 30_000);

  it('a site that is not a registered LMS cannot frame the class', async () => {
    // The same LMS process reached as 127.0.0.1 is another origin, not in frame-ancestors.
    const { page } = await coursePage('ada', 'ok', platform.jwksUrl.replace(/\/jwks$/, ''));
    await expect.poll(() => toolFrame(page).url(), SLOW).toMatch(/^chrome-error:/);
  }, 30_000);
});

describe('Deep Linking in Chromium', () => {
  it('an instructor adds a Lectern class: the signed answer posts back to the LMS, which verifies it', async () => {
    const { tool } = await coursePage('ada', 'deeplink');
    const add = tool.getByRole('button', { name: 'Add this class to the course' });
    await add.waitFor(SLOW);
    await add.click();
    // The LMS page in the frame, after checking the tool's signature against Lectern's key set.
    const added = tool.locator('#added');
    await added.waitFor(SLOW);
    expect(await added.textContent()).toBe('Added: Lectern class: Physics 101: Mechanics');
    expect(await added.getAttribute('data-url')).toBe(`${lectern.url}/lti/launch`);
  }, 30_000);

  it('a learner cannot', async () => {
    const { tool } = await coursePage('ben', 'deeplink');
    expect(await refusalCode(tool)).toBe('forbidden');
  }, 30_000);
});
