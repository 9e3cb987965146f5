// Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi (never a downloaded browser:
// puppeteer-core fetches none, and scripts/install.sh sets PUPPETEER_SKIP_DOWNLOAD for npm ci),
// with fake camera and microphone. Playwright cannot drive a stock Firefox, puppeteer can.
// Tests that use it run inside a loopback-only network namespace (scripts/in-netns.sh).
// Recipe and pitfalls: ../shared/notes/firefox.md.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** A headless Firefox with its own profile, allowed camera and microphone on one origin. */
export class FirefoxBrowser {
  readonly browser: Browser;
  readonly #dir: string;
  readonly #errors: string[] = [];

  /**
   * Start Firefox for pages of `origin` (e.g. http://127.0.0.1:41234, port included: Firefox keys
   * permissions by exact origin). `prefs` are added to the ones WebRTC needs here.
   */
  static async launch(origin: string, prefs: Record<string, unknown> = {}): Promise<FirefoxBrowser> {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-firefox-'));
    try {
      // Without a stored camera/microphone permission Firefox gathers ICE candidates only on its
      // "default address", which it finds by routing to a public DNS server: no route in the test
      // namespace, so no candidates at all. A fake getUserMedia stream is not a permission, and
      // BiDi setPermission refuses "camera" in 153; a permission defaults file works.
      const permissions = join(dir, 'permissions');
      writeFileSync(permissions, ['camera', 'microphone'].map((type) => `origin\t${type}\t1\t${new URL(origin).origin}\n`).join(''));
      const browser = await puppeteer.launch({
        browser: 'firefox',
        protocol: 'webDriverBiDi',
        executablePath: FIREFOX,
        headless: true,
        userDataDir: join(dir, 'profile'),
        defaultViewport: { width: 1024, height: 720 },
        extraPrefsFirefox: {
          'media.navigator.streams.fake': true,
          // Firefox drops 127.0.0.1 and ::1 candidates by default; only loopback is up here.
          'media.peerconnection.ice.loopback': true,
          'permissions.manager.defaultsUrl': pathToFileURL(permissions).href,
          ...prefs,
        },
      });
      return new FirefoxBrowser(browser, dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  private constructor(browser: Browser, dir: string) {
    this.browser = browser;
    this.#dir = dir;
  }

  /** A new tab whose uncaught errors and console errors are collected (see `errors`). */
  async newPage(label: string): Promise<Page> {
    const page = await this.browser.newPage();
    page.on('pageerror', (error) => this.#errors.push(`[${label}] page error: ${error instanceof Error ? error.message : String(error)}`));
    page.on('console', (message) => {
      if (message.type() === 'error') this.#errors.push(`[${label}] console error: ${message.text()}`);
    });
    return page;
  }

  /** Uncaught page errors and console errors in every tab since the last call; a test asserts none. */
  takeErrors(): string[] {
    return this.#errors.splice(0);
  }

  /** Close the browser and delete its profile. Idempotent. */
  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * Prefs for shareTabAsScreen: Firefox's own tab capture, granted without a prompt (nobody is
 * there to click one). Headless Firefox has no display server, so its screen and window
 * capturers find nothing and getDisplayMedia fails with NotFoundError, fake streams or not.
 */
export const TAB_CAPTURE_PREFS = {
  'media.getusermedia.browser.enabled': true,
  'media.navigator.permission.disabled': true,
};

/**
 * Page init script (evaluateOnNewDocument): getDisplayMedia captures the tab itself through
 * Firefox's `mediaSource: 'browser'` capture, with the constraints the page asked for. Everything
 * after capture (track, encoder, simulcast, transport) is the page's own. Self-contained: serialised.
 */
export function shareTabAsScreen(): void {
  const devices = navigator.mediaDevices;
  if (!devices) return; // about:blank and other insecure documents have none
  devices.getDisplayMedia = (options?: DisplayMediaStreamOptions) => {
    const video = typeof options?.video === 'object' ? options.video : {};
    return devices.getUserMedia({ video: { ...video, mediaSource: 'browser' } as MediaTrackConstraints, audio: false });
  };
}

/** Open a class link in `page`, type a name, join, and wait until the call is on screen. */
export async function joinClass(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.locator('#display-name').fill(name);
  await page.locator('#join-button').click();
  await page.waitForSelector('#call', { visible: true, timeout: 20_000 });
}
