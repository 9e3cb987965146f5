// Chromium pages that open a class the way a person does (the class link, a typed name, Join),
// for tests with several node processes, where the page, not the test, decides where it lands.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PageErrors } from './chromium.js';

/** The pages a test opened, each in its own context, with their uncaught errors recorded. */
export class ClassPages {
  readonly errors = new PageErrors();
  readonly #contexts: BrowserContext[] = [];
  #browser: Browser | undefined;

  use(browser: Browser): void {
    this.#browser = browser;
  }

  /** Open `url`, type `name` and click Join. */
  async open(url: string, name: string): Promise<Page> {
    const context = await this.#browser!.newContext({ viewport: { width: 1024, height: 720 } });
    this.#contexts.push(context);
    const page = this.errors.watch(await context.newPage(), name);
    await page.goto(url);
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Join' }).click();
    return page;
  }

  /** Close every page opened so far: a page left open would follow the class when a node dies. */
  async closeAll(): Promise<void> {
    for (const context of this.#contexts.splice(0)) await context.close();
  }
}

/** Frames `page` has decoded of `name`'s camera (0 while there is no such tile). */
export async function framesDecoded(page: Page, name: string): Promise<number> {
  return page
    .locator(`.tile[aria-label="${name}"]`)
    .evaluate((el: HTMLElement) => Number(el.dataset.framesDecoded ?? 0))
    .catch(() => 0);
}
