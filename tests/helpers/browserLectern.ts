// One in-process Lectern and one Chromium for a browser test file: started before its tests and
// closed after them, with every page opened in its own context and its uncaught errors recorded.
// The recording browser tests each wrote this set-up out again.
import { afterAll, beforeAll, expect } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLectern, type TestLectern } from './lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from './chromium.js';

/** What a test file gets: the live server and browser (after beforeAll), and how to open pages. */
export interface BrowserLectern {
  readonly lectern: TestLectern;
  readonly browser: Browser;
  readonly errors: PageErrors;
  /** A signed room link's token for `subject` in `room` as `role`. */
  token(room: string, role: 'instructor' | 'student', subject: string): Promise<string>;
  /** A new context and page at `url`, its errors watched under `label`; with `name`, joins the class as that name. */
  open(url: string, label: string, options?: { name?: string }): Promise<Page>;
  /** A new context (its pages' errors watched under `label`), for a test that sets the page up itself. */
  context(label: string): Promise<BrowserContext>;
}

/** Register the file's beforeAll/afterAll and return its fixture (config overrides as startLectern takes them). */
export function browserLecternPerFile(overrides: Record<string, unknown>): BrowserLectern {
  let lectern: TestLectern | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const errors = new PageErrors();

  beforeAll(async () => {
    expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh').toEqual([]);
    lectern = await startLectern(overrides);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await lectern?.close();
  });

  const context = async (label: string): Promise<BrowserContext> => {
    const made = await fixture.browser.newContext({ viewport: { width: 1000, height: 760 } });
    contexts.push(made);
    return errors.watchContext(made, label);
  };
  const fixture: BrowserLectern = {
    get lectern() {
      if (!lectern) throw new Error('the Lectern of this file has not started (used outside a test?)');
      return lectern;
    },
    get browser() {
      if (!browser) throw new Error('the Chromium of this file has not started (used outside a test?)');
      return browser;
    },
    errors,
    token: (room, role, subject) => fixture.lectern.authenticator.issueRoomToken({ room, role, subject }),
    context,
    async open(url, label, options = {}) {
      const page = await (await context(label)).newPage();
      await page.goto(url);
      if (options.name) {
        await page.getByLabel('Your name').fill(options.name);
        await page.getByRole('button', { name: 'Join' }).click();
        await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
      }
      return page;
    },
  };
  return fixture;
}
