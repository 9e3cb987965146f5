// Keyboard-only use and 200% zoom: a student joins and raises a hand without a mouse, and at twice
// the zoom every control stays on screen without horizontal scrolling.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';

let lectern: TestLectern;
let browser: Browser;
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces()).toEqual([]);
  lectern = await startLectern();
  browser = await launchChromium();
}, 60_000);

afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  await browser?.close();
  await lectern?.close();
});

describe('accessibility', () => {
  it('joins and raises a hand with the keyboard alone, at 200% zoom, with every control labelled and on screen', async () => {
    // 200% zoom of a 1280x800 window: the page lays out in 640x400 CSS pixels at twice the density.
    const context = await browser.newContext({ viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
    const page = pageErrors.watch(await context.newPage(), 'Kim');
    await page.goto(`${lectern.url}/r/a11y-101`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 10_000 }).toBe('display-name');
    await page.keyboard.type('Keyboard Kim');
    await page.keyboard.press('Enter');
    await page.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });

    // Tab to "Raise hand" and press it.
    let focused = '';
    for (let i = 0; i < 40 && focused !== 'toggle-hand'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.id ?? '');
    }
    expect(focused).toBe('toggle-hand');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#toggle-hand').getAttribute('aria-pressed'), { timeout: 10_000 }).toBe('true');

    // No horizontal scrolling, and every visible control has an accessible name.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('button, input')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => {
          const labelled = el.getAttribute('aria-label') || el.textContent?.trim() || (el.id && document.querySelector(`label[for="${el.id}"]`));
          return !labelled;
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unlabelled).toEqual([]);

    // On screen: every visible control lies within the window's width, and scrolled to (vertical
    // scrolling is allowed at 200%), it fits in the window and is what a click there would hit,
    // not hidden under another element or clipped by a scrolling container.
    const controls = page.locator('button, input');
    const offScreen: string[] = [];
    let checked = 0;
    for (let i = 0; i < (await controls.count()); i++) {
      const control = controls.nth(i);
      if (!(await control.isVisible())) continue;
      checked++;
      await control.scrollIntoViewIfNeeded();
      const problem = await control.evaluate((el: HTMLElement) => {
        const r = el.getBoundingClientRect();
        const what = `${el.tagName.toLowerCase()}#${el.id || '?'} "${(el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 30)}"`;
        if (r.width < 1 || r.height < 1) return `${what} has no size`;
        if (r.left < 0 || r.right > window.innerWidth + 1) return `${what} spans x ${Math.round(r.left)}..${Math.round(r.right)} of ${window.innerWidth}`;
        if (r.top < 0 || r.bottom > window.innerHeight + 1) return `${what} spans y ${Math.round(r.top)}..${Math.round(r.bottom)} of ${window.innerHeight}`;
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!hit || !(hit === el || el.contains(hit) || (el.id && hit.closest(`label[for="${el.id}"]`)))) return `${what} is covered by ${hit?.outerHTML.slice(0, 60) ?? 'nothing'}`;
        return undefined;
      });
      if (problem) offScreen.push(problem);
    }
    expect(offScreen).toEqual([]);
    expect(checked, 'visible controls checked').toBeGreaterThanOrEqual(5);
    console.log(`200% zoom: ${checked} visible controls, each on screen`);
    await context.close();
  }, 60_000);
});
