// Debian's Chromium driven by playwright-core (never a downloaded browser), with fake camera and
// microphone. Tests that use it run inside a loopback-only network namespace (scripts/in-netns.sh).
// playwright-core gives every launch a fresh, empty profile directory of its own.
import { networkInterfaces } from 'node:os';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Start a headless Chromium with fake media devices; `extraArgs` are added to the usual flags. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...extraArgs,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Network interfaces other than loopback that are visible to this process. */
export function nonLoopbackInterfaces(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([, addresses]) => addresses?.some((a) => !a.internal))
    .map(([name]) => name);
}

/**
 * Uncaught errors of the pages it watches (Playwright's `pageerror`: an exception or unhandled
 * rejection in the page's own scripts). A client that throws is a failing test, not a log line:
 * watch every page (or context) a test opens, and call `expectNone()` in afterEach.
 */
export class PageErrors {
  readonly #errors: string[] = [];

  /** Record uncaught errors of `page`, labelled with `name` (the participant). */
  watch(page: Page, name: string): Page {
    page.on('pageerror', (error) => this.#errors.push(`[${name}] ${error.stack ?? error.message}`));
    return page;
  }

  /** Record uncaught errors of every page `context` opens from now on. */
  watchContext(context: BrowserContext, name: string): BrowserContext {
    context.on('page', (page) => this.watch(page, name));
    return context;
  }

  /** Errors recorded since the last call (and forget them). */
  take(): string[] {
    return this.#errors.splice(0);
  }

  /** Fail if any watched page threw since the last call. */
  expectNone(): void {
    const errors = this.take();
    if (errors.length > 0) throw new Error(`uncaught error(s) in the page:\n${errors.join('\n')}`);
  }
}
