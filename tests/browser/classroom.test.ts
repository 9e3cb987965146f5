// Running a class in real Chromium: an instructor (signed link) and students (personal links)
// use the page's own controls. Runs inside a loopback-only network namespace. Each test opens its
// own class (room, instructor, students) and closes it after, so one failure cannot cascade.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
// Before any worker starts: it watches mediasoup's observer to ask the SFU what it forwards.
import { mediasoupConsumersIn, mediasoupProducer } from '../helpers/mediasoupLookup.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { projectRoot } from '../../server/paths.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
// Page, server and media share two cores: give round trips time when the machine is loaded.
const SLOW = { timeout: 15_000 };

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  lectern = await startLectern({ auth: { tokenSecret: 'browser-classroom-secret-at-least-32b' } }, { workers: 2 });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
  pageErrors.expectNone();
});

afterAll(async () => {
  await browser?.close();
  await lectern?.close();
});

async function link(room: string, role: 'instructor' | 'student', subject: string): Promise<string> {
  const token = await lectern.authenticator.issueRoomToken({ room, role, subject });
  return `${lectern.url}/r/${room}#token=${token}`;
}

/** A page in a fresh browser profile, watched for uncaught errors. */
async function newPage(name: string, viewport = { width: 1100, height: 760 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = pageErrors.watch(await context.newPage(), name);
  page.on('dialog', (dialog) => void dialog.accept());
  return page;
}

async function open(url: string, name: string, viewport = { width: 1100, height: 760 }): Promise<Page> {
  const page = await newPage(name, viewport);
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  return page;
}

async function inClass(page: Page): Promise<void> {
  await page.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
}

/** A class in `room`: the instructor, then each student, all in the call. */
async function classWith(room: string, students: string[]): Promise<{ teacher: Page; students: Page[] }> {
  const teacher = await open(await link(room, 'instructor', 'teacher@uni'), 'Teacher');
  await inClass(teacher);
  const pages: Page[] = [];
  for (const name of students) {
    const page = await open(await link(room, 'student', `${name.toLowerCase()}@uni`), name);
    await inClass(page);
    await teacher.locator(`.tile[aria-label="${name}"]`).waitFor(SLOW);
    pages.push(page);
  }
  return { teacher, students: pages };
}

function tileData(page: Page, name: string, key: string): Promise<number> {
  return page.locator(`.tile[aria-label="${name}"]`).evaluate((el: HTMLElement, k) => Number(el.dataset[k] ?? 0), key);
}

/** Run a moderation action from the participant's menu in the instructor's participant list. */
async function moderate(teacher: Page, name: string, action: string): Promise<void> {
  await teacher.getByRole('button', { name: `Actions for ${name}` }).click();
  await teacher.getByRole('menu', { name: `Actions for ${name}` }).getByRole('menuitem', { name: `${action} ${name}` }).click();
}

/** Ben's consumer of the teacher's camera, as the SFU holds it, and the producer behind it. */
async function cameraConsumer(room: string, viewer: Page, sender: string) {
  const peerId = await viewer.locator(`.tile[aria-label="${sender}"]`).getAttribute('data-peer-id');
  expect(peerId, `${sender}'s tile names the peer`).toBeTruthy();
  // Only the viewer receives the sender's camera in this room: exactly one consumer of it.
  await expect.poll(() => mediasoupConsumersIn(room, { peerId, source: 'camera' }).length, SLOW).toBe(1);
  const consumer = mediasoupConsumersIn(room, { peerId, source: 'camera' })[0]!;
  const producer = mediasoupProducer(consumer.producerId);
  expect(producer, 'the camera producer is live in the worker').toBeDefined();
  return { consumer, producer: producer! };
}

/** Spatial layers (encoding indexes) the SFU is receiving from the sender right now (bitrate above 0). */
async function layersArriving(producer: NonNullable<ReturnType<typeof mediasoupProducer>>): Promise<number[]> {
  const stats = await producer.getStats();
  const encodings = producer.rtpParameters.encodings ?? [];
  return encodings
    .map((encoding, index) => ({ index, stat: stats.find((s) => (encoding.rid !== undefined && s.rid === encoding.rid) || (encoding.ssrc !== undefined && s.ssrc === encoding.ssrc)) }))
    .filter(({ stat }) => (stat?.bitrate ?? 0) > 0)
    .map(({ index }) => index);
}

describe('a class run from the browser', () => {
  it('the instructor admits a student from the lobby', async () => {
    const room = 'e2e-lobby';
    const teacher = await open(await link(room, 'instructor', 'teacher@uni'), 'Teacher');
    await inClass(teacher);
    await expect.poll(() => teacher.locator('#instructor-controls').isVisible(), SLOW).toBe(true);
    await teacher.getByRole('button', { name: 'Turn lobby on' }).click();
    await teacher.getByRole('button', { name: 'Turn lobby off' }).waitFor();

    const ann = await open(await link(room, 'student', 'ann@uni'), 'Ann');
    await ann.locator('#waiting').waitFor({ state: 'visible' });
    await teacher.getByRole('button', { name: 'Admit Ann' }).click();
    await inClass(ann);
    await teacher.locator('.tile[aria-label="Ann"]').waitFor();
    // Students get no instructor controls.
    expect(await ann.locator('#instructor-controls').isVisible()).toBe(false);
    await teacher.getByRole('button', { name: 'Turn lobby off' }).click();
  }, 60_000);

  it('chat messages arrive', async () => {
    const { teacher, students: [ann] } = await classWith('e2e-chat', ['Ann']);
    await ann!.getByLabel('Message').fill('Will this be on the exam?');
    await ann!.getByLabel('Message').press('Enter');
    await teacher.locator('#chat-log li', { hasText: 'Will this be on the exam?' }).waitFor();
    expect(await teacher.locator('#chat-log li .from').last().textContent()).toBe('Ann');
  }, 60_000);

  it('raised hands appear to the instructor in order', async () => {
    const { teacher, students: [ann, ben] } = await classWith('e2e-hands', ['Ann', 'Ben']);
    await ben!.getByRole('button', { name: 'Raise hand' }).click();
    await teacher.locator('#hand-list li').first().waitFor();
    await ann!.getByRole('button', { name: 'Raise hand' }).click();
    await expect.poll(() => teacher.locator('#hand-list li .who').allTextContents(), SLOW).toEqual(['Ben', 'Ann']);
    await teacher.getByRole('button', { name: 'Lower hand of Ben' }).click();
    await expect.poll(() => teacher.locator('#hand-list li .who').allTextContents(), SLOW).toEqual(['Ann']);
  }, 60_000);

  it('mute all reaches every student and they must ask to unmute', async () => {
    const { teacher, students } = await classWith('e2e-mute', ['Ann', 'Ben']);
    const [ann] = students;
    await expect.poll(() => tileData(teacher, 'Ann', 'audioPackets'), { timeout: 20_000 }).toBeGreaterThan(0);
    await teacher.getByRole('button', { name: 'Mute all' }).click();
    for (const student of students) {
      await expect.poll(() => student.locator('#status').textContent(), SLOW).toContain('Raise your hand to ask to unmute');
      expect(await student.locator('#toggle-mic').getAttribute('aria-pressed')).toBe('true');
    }
    await teacher.locator('.tile[aria-label="Ann"] .badge', { hasText: 'mic off' }).waitFor();
    await teacher.locator('.tile[aria-label="Ben"] .badge', { hasText: 'mic off' }).waitFor();
    // The instruction stays once the other student's update (their mic muted too) has arrived: it
    // came right after Ann's own notice and replaced it with the head count.
    for (const [student, other] of [[students[0]!, 'Ben'], [students[1]!, 'Ann']] as const) {
      await student.locator(`.tile[aria-label="${other}"] .badge`, { hasText: 'mic off' }).waitFor();
      expect(await student.locator('#status').textContent()).toContain('Raise your hand to ask to unmute');
    }
    // Audio really stops: over 1.5 s the packet count grows by a few stragglers at most, where an
    // open microphone sends ~75 (stats refresh once a second, so allow the first window to lag).
    const growth = async () => {
      const before = await tileData(teacher, 'Ann', 'audioPackets');
      await teacher.waitForTimeout(1500);
      return (await tileData(teacher, 'Ann', 'audioPackets')) - before;
    };
    await expect.poll(growth, { timeout: 10_000, interval: 0 }).toBeLessThan(10);
    await ann!.getByRole('button', { name: 'Unmute mic' }).click();
    await expect.poll(() => ann!.locator('#status').textContent(), SLOW).toContain('raise your hand');
    await moderate(teacher, 'Ann', 'Allow unmute');
    await ann!.getByRole('button', { name: 'Unmute mic' }).click();
    await teacher.locator('.tile[aria-label="Ann"] .badge', { hasText: 'mic off' }).waitFor({ state: 'detached' });
  }, 90_000);

  it('a shared screen is received as its own tile', async () => {
    const { teacher, students: [ann] } = await classWith('e2e-screen', ['Ann']);
    await teacher.getByRole('button', { name: 'Share screen' }).click();
    const screenTile = ann!.locator('.tile[aria-label="Teacher (screen)"]');
    await screenTile.waitFor({ timeout: 20_000 });
    await expect.poll(() => tileData(ann!, 'Teacher (screen)', 'framesDecoded'), { timeout: 20_000 }).toBeGreaterThan(0);
    await ann!.screenshot({ path: join(ARTIFACTS, 'classroom-student-view.png') });
    await teacher.screenshot({ path: join(ARTIFACTS, 'classroom-instructor-view.png') });
    await teacher.getByRole('button', { name: 'Stop sharing' }).click();
    await screenTile.waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  it('the simulcast layer drops when the receiver’s tile shrinks', async () => {
    const room = 'e2e-simulcast';
    const { students: [ben] } = await classWith(room, ['Ben']);
    const { consumer, producer } = await cameraConsumer(room, ben!, 'Teacher');
    expect(consumer.type).toBe('simulcast');
    // Up to a minute: the bandwidth estimate ramps up, and under the full suite the teacher's
    // browser may shed its top layers for CPU for a while (its own adaptation, not the SFU's).
    await expect.poll(() => tileData(ben!, 'Teacher', 'frameHeight'), { timeout: 60_000 }).toBeGreaterThanOrEqual(270);
    await expect.poll(() => consumer.currentLayers?.spatialLayer ?? -1, SLOW).toBeGreaterThanOrEqual(1);
    const large = await tileData(ben!, 'Teacher', 'frameHeight');
    const largeLayers = { preferred: consumer.preferredLayers?.spatialLayer, current: consumer.currentLayers?.spatialLayer };

    await ben!.setViewportSize({ width: 420, height: 700 });
    await ben!.evaluate(() => {
      // Shrink the grid's tiles the way a crowded class would.
      for (const tile of document.querySelectorAll<HTMLElement>('.tile')) tile.style.maxWidth = '200px';
    });
    // The SFU's choice for Ben: the tile now fits the lowest layer, and that is what it forwards...
    await expect.poll(() => consumer.preferredLayers?.spatialLayer, { timeout: 30_000 }).toBe(0);
    await expect.poll(() => consumer.currentLayers?.spatialLayer, { timeout: 30_000 }).toBe(0);
    // ...while the teacher still sends a higher one: the drop is the SFU's, not the sender's.
    await expect.poll(async () => Math.max(...(await layersArriving(producer))), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => tileData(ben!, 'Teacher', 'frameHeight'), { timeout: 30_000 }).toBeLessThan(large);
    console.log(
      `simulcast: received height ${large} -> ${await tileData(ben!, 'Teacher', 'frameHeight')} after the tile shrank; ` +
        `SFU layer for Ben ${JSON.stringify(largeLayers)} -> ${JSON.stringify({ preferred: consumer.preferredLayers?.spatialLayer, current: consumer.currentLayers?.spatialLayer })}, ` +
        `layers arriving from the teacher ${JSON.stringify(await layersArriving(producer))}`,
    );
  }, 120_000);

  it('a removed participant cannot rejoin with the same link', async () => {
    const room = 'e2e-remove';
    const { teacher } = await classWith(room, []);
    const trollLink = await link(room, 'student', 'troll@uni');
    const troll = await open(trollLink, 'Troll');
    await inClass(troll);
    await moderate(teacher, 'Troll', 'Remove');
    await expect.poll(() => troll.locator('#status').textContent(), SLOW).toContain('removed');
    await teacher.locator('.tile[aria-label="Troll"]').waitFor({ state: 'detached' });
    await troll.goto(trollLink);
    await troll.reload();
    await troll.getByLabel('Your name').fill('Troll again');
    await troll.getByRole('button', { name: 'Join' }).click();
    await expect.poll(() => troll.locator('#prejoin-error').textContent(), SLOW).toContain('removed');
    expect(pageErrors.take()).toEqual([]);
  }, 60_000);

  // A removal once left uncaught errors: the lobby promise rejecting after admission in the removed
  // page, and resumeConsumer racing the track's close in the others (now not_found, and handled).
  it('removing a participant leaves no uncaught error in any page', async () => {
    const room = 'e2e-remove-clean';
    const { teacher } = await classWith(room, ['Ann']);
    const troll = await open(await link(room, 'student', 'troll@uni'), 'Troll');
    await inClass(troll);
    await moderate(teacher, 'Troll', 'Remove');
    await expect.poll(() => troll.locator('#status').textContent(), SLOW).toContain('removed');
    await teacher.locator('.tile[aria-label="Troll"]').waitFor({ state: 'detached' });
    await teacher.waitForTimeout(1000);
    expect(pageErrors.take()).toEqual([]);
  }, 60_000);
});
