// Running a class in real Chromium: an instructor (signed link) and students (personal links)
// use the page's own controls. Runs inside a loopback-only network namespace.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces } from '../helpers/chromium.js';
import { projectRoot } from '../../server/paths.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
const ROOM = 'e2e-seminar';
// Page, server and media share two cores: give round trips time when the machine is loaded.
const SLOW = { timeout: 15_000 };

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  lectern = await startLectern({ auth: { tokenSecret: 'browser-classroom-secret-at-least-32b' } }, { workers: 2 });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await lectern?.close();
});

async function link(role: 'instructor' | 'student', subject: string): Promise<string> {
  const token = await lectern.authenticator.issueRoomToken({ room: ROOM, role, subject });
  return `${lectern.url}/r/${ROOM}#token=${token}`;
}

async function open(url: string, name: string, viewport = { width: 1100, height: 760 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  return page;
}

async function inClass(page: Page): Promise<void> {
  await page.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
}

function tileData(page: Page, name: string, key: string): Promise<number> {
  return page.locator(`.tile[aria-label="${name}"]`).evaluate((el: HTMLElement, k) => Number(el.dataset[k] ?? 0), key);
}

describe('a class run from the browser', () => {
  let teacher: Page;
  let ann: Page;
  let ben: Page;

  it('the instructor admits a student from the lobby', async () => {
    teacher = await open(await link('instructor', 'teacher@uni'), 'Teacher');
    await inClass(teacher);
    await expect.poll(() => teacher.locator('#instructor-controls').isVisible(), SLOW).toBe(true);
    await teacher.getByRole('button', { name: 'Turn lobby on' }).click();
    await teacher.getByRole('button', { name: 'Turn lobby off' }).waitFor();

    ann = await open(await link('student', 'ann@uni'), 'Ann');
    await ann.locator('#waiting').waitFor({ state: 'visible' });
    await teacher.getByRole('button', { name: 'Admit Ann' }).click();
    await inClass(ann);
    await teacher.locator('.tile[aria-label="Ann"]').waitFor();
    // Students get no instructor controls.
    expect(await ann.locator('#instructor-controls').isVisible()).toBe(false);
    await teacher.getByRole('button', { name: 'Turn lobby off' }).click();
  }, 60_000);

  it('chat messages arrive', async () => {
    await ann.getByLabel('Message').fill('Will this be on the exam?');
    await ann.getByLabel('Message').press('Enter');
    await teacher.locator('#chat-log li', { hasText: 'Will this be on the exam?' }).waitFor();
    expect(await teacher.locator('#chat-log li .from').last().textContent()).toBe('Ann');
  }, 30_000);

  it('raised hands appear to the instructor in order', async () => {
    ben = await open(await link('student', 'ben@uni'), 'Ben');
    await inClass(ben);
    await ben.getByRole('button', { name: 'Raise hand' }).click();
    await teacher.locator('#hand-list li').first().waitFor();
    await ann.getByRole('button', { name: 'Raise hand' }).click();
    await expect.poll(() => teacher.locator('#hand-list li .who').allTextContents(), SLOW).toEqual(['Ben', 'Ann']);
    await teacher.getByRole('button', { name: 'Lower hand of Ben' }).click();
    await expect.poll(() => teacher.locator('#hand-list li .who').allTextContents(), SLOW).toEqual(['Ann']);
  }, 40_000);

  it('mute all reaches every student and they must ask to unmute', async () => {
    await expect.poll(() => tileData(teacher, 'Ann', 'audioPackets'), { timeout: 20_000 }).toBeGreaterThan(0);
    await teacher.getByRole('button', { name: 'Mute all' }).click();
    for (const student of [ann, ben]) {
      await expect.poll(() => student.locator('#status').textContent(), SLOW).toContain('Raise your hand to ask to unmute');
      expect(await student.locator('#toggle-mic').getAttribute('aria-pressed')).toBe('true');
    }
    await teacher.locator('.tile[aria-label="Ann"] .badge', { hasText: 'mic off' }).waitFor();
    await teacher.locator('.tile[aria-label="Ben"] .badge', { hasText: 'mic off' }).waitFor();
    // Audio really stops: over 1.5 s the packet count grows by a few stragglers at most, where an
    // open microphone sends ~75 (stats refresh once a second, so allow the first window to lag).
    const growth = async () => {
      const before = await tileData(teacher, 'Ann', 'audioPackets');
      await teacher.waitForTimeout(1500);
      return (await tileData(teacher, 'Ann', 'audioPackets')) - before;
    };
    await expect.poll(growth, { timeout: 10_000, interval: 0 }).toBeLessThan(10);
    await ann.getByRole('button', { name: 'Unmute mic' }).click();
    await expect.poll(() => ann.locator('#status').textContent(), SLOW).toContain('raise your hand');
    await teacher.getByRole('button', { name: 'Allow unmute Ann' }).click();
    await ann.getByRole('button', { name: 'Unmute mic' }).click();
    await teacher.locator('.tile[aria-label="Ann"] .badge', { hasText: 'mic off' }).waitFor({ state: 'detached' });
  }, 60_000);

  it('a shared screen is received as its own tile', async () => {
    await teacher.getByRole('button', { name: 'Share screen' }).click();
    const screenTile = ann.locator('.tile[aria-label="Teacher (screen)"]');
    await screenTile.waitFor({ timeout: 20_000 });
    await expect.poll(() => tileData(ann, 'Teacher (screen)', 'framesDecoded'), { timeout: 20_000 }).toBeGreaterThan(0);
    await ann.screenshot({ path: join(ARTIFACTS, 'classroom-student-view.png') });
    await teacher.screenshot({ path: join(ARTIFACTS, 'classroom-instructor-view.png') });
    await teacher.getByRole('button', { name: 'Stop sharing' }).click();
    await screenTile.waitFor({ state: 'detached', timeout: 10_000 });
  }, 60_000);

  it('the simulcast layer drops when the receiver’s tile shrinks', async () => {
    // Up to a minute: under the full suite the teacher's browser may shed its top layers for CPU
    // for a while (its own adaptation, not the SFU's), and the bandwidth estimate ramps up meanwhile.
    await expect.poll(() => tileData(ben, 'Teacher', 'frameHeight'), { timeout: 60_000 }).toBeGreaterThanOrEqual(270);
    const large = await tileData(ben, 'Teacher', 'frameHeight');
    await ben.setViewportSize({ width: 420, height: 700 });
    await ben.evaluate(() => {
      // Shrink the grid's tiles the way a crowded class would.
      for (const tile of document.querySelectorAll<HTMLElement>('.tile')) tile.style.maxWidth = '200px';
    });
    await expect.poll(() => tileData(ben, 'Teacher', 'frameHeight'), { timeout: 30_000 }).toBeLessThan(large);
    console.log(`simulcast: received height ${large} -> ${await tileData(ben, 'Teacher', 'frameHeight')} after the tile shrank`);
  }, 100_000);

  it('a removed participant cannot rejoin with the same link', async () => {
    const benLink = await link('student', 'ben-removed@uni');
    const context = await browser.newContext();
    contexts.push(context);
    const troll = await context.newPage();
    await troll.goto(benLink);
    await troll.getByLabel('Your name').fill('Troll');
    await troll.getByRole('button', { name: 'Join' }).click();
    await inClass(troll);
    await teacher.getByRole('button', { name: 'Remove Troll' }).click();
    await expect.poll(() => troll.locator('#status').textContent(), SLOW).toContain('removed');
    await teacher.locator('.tile[aria-label="Troll"]').waitFor({ state: 'detached' });
    await troll.goto(benLink);
    await troll.reload();
    await troll.getByLabel('Your name').fill('Troll again');
    await troll.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => troll.locator('#prejoin-error').textContent(), SLOW).toContain('removed');
  }, 60_000);
});
