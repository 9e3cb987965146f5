// A class view for 500 (#14, item 5): an instructor in real Chromium with 500 signalling-only
// participants (real WebSocket clients with receive transports, no media) in the class. The
// participant list keeps only the rows in view in the DOM and finds people by name; moderation
// sits in one menu per row and really acts on the server; the control bar is on screen at
// 1280x800 and at 200 % zoom; the page says how many are in the class. Runs inside a
// loopback-only network namespace (scripts/in-netns.sh).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
// Before any worker starts: it watches mediasoup's observer to read producers' state in the worker.
import { mediasoupProducer } from '../helpers/mediasoupLookup.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { opusParameters } from '../helpers/media.js';
import { projectRoot } from '../../server/paths.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
const ROOM = 'e2e-class-500';
const BOTS = 500;
const SLOW = { timeout: 30_000, interval: 250 };

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const bots: SignallingClient[] = [];
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh').toEqual([]);
  lectern = await startLectern({ auth: { tokenSecret: 'browser-class-view-secret-at-least-32b' }, rooms: { maxPeersPerRoom: 600 } });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  for (const bot of bots) bot.close();
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await lectern?.close();
});

/** A signalling-only student: joined and ready (a receive transport, nothing sent). */
async function bot(name: string): Promise<{ client: SignallingClient; peerId: string; caps: Record<string, unknown> }> {
  const client = await SignallingClient.connect(lectern.wsUrl);
  bots.push(client);
  const token = await lectern.authenticator.issueRoomToken({ room: ROOM, role: 'student', subject: `${name.toLowerCase().replace(/\W+/g, '.')}@uni` });
  const joined = await client.ok('join', { room: ROOM, displayName: name, token });
  const caps = joined.routerRtpCapabilities as Record<string, unknown>;
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: caps });
  return { client, peerId: joined.peerId as string, caps };
}

/** An instructor's page, joined without camera and microphone (the class view is what is tested). */
async function instructor(name: string, context: BrowserContext): Promise<Page> {
  const page = pageErrors.watch(await context.newPage(), name);
  const token = await lectern.authenticator.issueRoomToken({ room: ROOM, role: 'instructor', subject: `${name.toLowerCase().replace(/\W+/g, '.')}@uni` });
  await page.goto(`${lectern.url}/r/${ROOM}#token=${token}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Camera').uncheck();
  await page.getByLabel('Microphone').uncheck();
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
  return page;
}

/** The control bar's box against the window, and whether the page itself scrolls. */
function controlBarPlacement(page: Page) {
  return page.evaluate(() => {
    const bar = document.querySelector('.controls')!.getBoundingClientRect();
    const buttons = [...document.querySelectorAll<HTMLElement>('.controls button')].filter((b) => b.offsetParent !== null);
    const outside = buttons
      .map((b) => ({ id: b.id, r: b.getBoundingClientRect() }))
      .filter(({ r }) => r.top < 0 || r.left < 0 || r.bottom > window.innerHeight + 0.5 || r.right > window.innerWidth + 0.5)
      .map(({ id }) => id);
    return {
      bar: { top: bar.top, left: bar.left, bottom: bar.bottom, right: bar.right },
      window: { width: window.innerWidth, height: window.innerHeight },
      buttons: buttons.length,
      outside,
    };
  });
}

function expectInside(placement: Awaited<ReturnType<typeof controlBarPlacement>>): void {
  expect(placement.bar.top).toBeGreaterThanOrEqual(0);
  expect(placement.bar.left).toBeGreaterThanOrEqual(0);
  expect(placement.bar.bottom).toBeLessThanOrEqual(placement.window.height + 0.5);
  expect(placement.bar.right).toBeLessThanOrEqual(placement.window.width + 0.5);
  expect(placement.outside).toEqual([]);
}

const rowsInDom = (page: Page) => page.locator('#people-list li').count();

describe('the class view with 500 students', () => {
  it('lists, finds and moderates 500 participants with a few dozen rows, and keeps the controls on screen', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const teacher = await instructor('Teacher', context);

    // 497 numbered students, one to find, one to remove, one who sends a microphone to be muted.
    const names = Array.from({ length: BOTS - 3 }, (_, i) => `Student ${String(i + 1).padStart(3, '0')}`);
    const everyone: Awaited<ReturnType<typeof bot>>[] = [];
    for (let i = 0; i < names.length; i += 25) everyone.push(...(await Promise.all(names.slice(i, i + 25).map((n) => bot(n)))));
    const zoe = await bot('Zoë Quinn');
    const troll = await bot('Troll Account');
    const mia = await bot('Mia Mic');
    const send = (await mia.client.ok('createTransport', { direction: 'send' })).id as string;
    const { producerId } = (await mia.client.ok('produce', { transportId: send, kind: 'audio', source: 'microphone', rtpParameters: opusParameters() })) as { producerId: string };

    await expect.poll(() => teacher.locator('#class-count').textContent(), SLOW).toBe(`${BOTS + 1} in the class`);
    await expect.poll(() => teacher.locator('#people-count').textContent(), SLOW).toBe(String(BOTS + 1));
    await expect.poll(() => teacher.locator('#page-label').textContent(), SLOW).toMatch(/^Page 1 of \d+$/);
    await teacher.screenshot({ path: join(ARTIFACTS, 'class-view-500.png') });

    // Virtualised: the list is as tall as 301 rows, but holds only those in view (and a few more).
    const atTop = await rowsInDom(teacher);
    expect(atTop).toBeGreaterThan(3);
    expect(atTop).toBeLessThan(60);
    const listHeight = await teacher.locator('#people-list').evaluate((el) => el.getBoundingClientRect().height);
    expect(listHeight).toBeGreaterThan(BOTS * 30);
    // Scrolled to the end, the last rows are drawn and the first are gone.
    await teacher.locator('#people-viewport').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await expect.poll(() => teacher.locator('#people-list li', { hasText: 'Zoë Quinn' }).count(), SLOW).toBe(1);
    await expect.poll(() => teacher.locator('#people-list li', { hasText: 'Teacher (you)' }).count(), SLOW).toBe(0);
    expect(await rowsInDom(teacher)).toBeLessThan(60);

    // Search by name, without minding case or accents.
    await teacher.getByLabel('Search participants by name').fill('zoe');
    await expect.poll(() => teacher.locator('#people-list li .who').allTextContents(), SLOW).toEqual(['Zoë Quinn']);
    await expect.poll(() => teacher.locator('#people-matches').textContent(), SLOW).toContain(`1 of ${BOTS + 1}`);
    await teacher.getByLabel('Search participants by name').fill('student 2');
    await expect.poll(() => rowsInDom(teacher), SLOW).toBeGreaterThan(3);
    const twoHundreds = names.filter((n) => n.toLowerCase().includes('student 2')).length;
    await expect.poll(() => teacher.locator('#people-matches').textContent(), SLOW).toContain(`${twoHundreds} of ${BOTS + 1}`);

    // One menu per row; each row has one button, not five.
    await teacher.getByLabel('Search participants by name').fill('troll');
    const trollRow = teacher.locator('#people-list li', { hasText: 'Troll Account' });
    await trollRow.waitFor(SLOW);
    expect(await trollRow.locator('button').count()).toBe(1);
    await teacher.getByRole('button', { name: 'Actions for Troll Account' }).click();
    const menu = teacher.getByRole('menu', { name: 'Actions for Troll Account' });
    await menu.waitFor(SLOW);
    expect(await menu.getByRole('menuitem').allTextContents()).toEqual(['Mute', 'Stop camera', 'Allow unmute', 'Make presenter', 'Remove']);
    await teacher.screenshot({ path: join(ARTIFACTS, 'class-view-menu.png') });
    await menu.getByRole('menuitem', { name: 'Remove Troll Account' }).click();
    expect(await troll.client.notification('removed')).toMatchObject({ reason: expect.stringContaining('removed') });
    await expect.poll(() => teacher.locator('#class-count').textContent(), SLOW).toBe(`${BOTS} in the class`);
    await expect.poll(async () => ((await (await fetch(`${lectern.url}/healthz`)).json()) as { peers: number }).peers, SLOW).toBe(BOTS);

    // Mute from the menu, with the keyboard: the SFU's producer is paused and the student is told.
    expect(mediasoupProducer(producerId)?.paused).toBe(false);
    await teacher.getByLabel('Search participants by name').fill('mia');
    const miaActions = teacher.getByRole('button', { name: 'Actions for Mia Mic' });
    await miaActions.focus();
    await teacher.keyboard.press('Enter');
    await expect.poll(() => teacher.evaluate(() => document.activeElement?.getAttribute('aria-label')), SLOW).toBe('Mute Mia Mic');
    await teacher.keyboard.press('Enter');
    await mia.client.notification('moderatorMuted', (d) => d.source === 'microphone');
    await expect.poll(() => mediasoupProducer(producerId)?.paused, SLOW).toBe(true);
    expect(await miaActions.getAttribute('aria-expanded')).toBe('false');
    await teacher.getByLabel('Search participants by name').fill('');

    // 1280x800: the whole control bar is inside the window and the page does not scroll.
    const laptop = await controlBarPlacement(teacher);
    expectInside(laptop);
    expect(laptop.buttons).toBeGreaterThanOrEqual(10);
    expect(await teacher.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight + 1)).toBe(true);

    // 200 % zoom of the same screen: 640x400 CSS px at twice the density.
    const zoomed = await browser.newContext({ viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });
    contexts.push(zoomed);
    const second = await instructor('Second Teacher', zoomed);
    await expect.poll(() => second.locator('#class-count').textContent(), SLOW).toBe(`${BOTS + 1} in the class`);
    const zoomedBar = await controlBarPlacement(second);
    expectInside(zoomedBar);
    expect(await second.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await second.screenshot({ path: join(ARTIFACTS, 'class-view-200pct.png') });
    // The everyday controls in one row; the rest behind "More", and on screen too once opened.
    expect(await second.getByRole('button', { name: 'Mute all' }).isVisible()).toBe(false);
    await second.getByRole('button', { name: 'More' }).click();
    await second.getByRole('button', { name: 'Mute all' }).waitFor(SLOW);
    const opened = await controlBarPlacement(second);
    expectInside(opened);
    expect(opened.buttons).toBe(laptop.buttons + 1);
    await second.screenshot({ path: join(ARTIFACTS, 'class-view-200pct-more.png') });
    console.log(
      `class view: ${BOTS + 1} in the class, ${atTop} rows in the DOM (list ${Math.round(listHeight)} px tall); ` +
        `control bar at 1280x800 ${JSON.stringify(laptop.bar)}, ${laptop.buttons} buttons; ` +
        `at 200 % ${JSON.stringify(zoomedBar.bar)} with ${zoomedBar.buttons} buttons, ${JSON.stringify(opened.bar)} with ${opened.buttons} after "More"`,
    );
    void zoe;
    void everyone;
  }, 240_000);
});
