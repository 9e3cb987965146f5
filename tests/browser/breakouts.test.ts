// Breakout rooms and a poll in real Chromium, driven through the page's own controls. Four
// participants split into two rooms see and hear only their own group, on the same two
// RTCPeerConnections with the same ICE credentials (no new connection, no ICE restart); bringing
// everyone back restores one grid; a timed split returns by itself after its warning. Runs inside
// a loopback-only network namespace (scripts/in-netns.sh).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { projectRoot } from '../../server/paths.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
const ROOM = 'e2e-breakouts';
// Four browsers, a server and media share two cores: give round trips time when the machine is loaded.
const SLOW = { timeout: 30_000 };

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh').toEqual([]);
  // A three-second warning lead, so a six-second breakout shows the warning and then returns.
  lectern = await startLectern({ auth: { tokenSecret: 'browser-breakouts-secret-at-least-32b' }, rooms: { breakoutWarningSeconds: 3 } });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await lectern?.close();
});

/** Runs in each page before its scripts: remembers every RTCPeerConnection and any ICE restart. */
function watchPeerConnections(): void {
  const w = window as unknown as { RTCPeerConnection: typeof RTCPeerConnection; __pcs: { pcs: RTCPeerConnection[]; restarts: number } };
  const record = { pcs: [] as RTCPeerConnection[], restarts: 0 };
  w.__pcs = record;
  const Native = w.RTCPeerConnection;
  class Watched extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      record.pcs.push(this);
    }
    override restartIce(): void {
      record.restarts += 1;
      super.restartIce();
    }
  }
  // An offer with iceRestart is the other way to restart ICE.
  const nativeOffer = Native.prototype.createOffer as (this: RTCPeerConnection, ...args: unknown[]) => Promise<RTCSessionDescriptionInit>;
  Native.prototype.createOffer = function (this: RTCPeerConnection, ...args: unknown[]) {
    if ((args[0] as RTCOfferOptions | undefined)?.iceRestart) record.restarts += 1;
    return nativeOffer.apply(this, args);
  } as typeof Native.prototype.createOffer;
  w.RTCPeerConnection = Watched;
}

/**
 * The page's open peer connections (by creation index: the same objects, or not), their ICE
 * ufrags and states, and ICE restarts asked for. mediasoup-client's Device probes codecs with a
 * throw-away connection it closes at once; only open ones are the transports.
 */
function connections(page: Page): Promise<{ open: number[]; created: number; ufrags: string[]; states: string[]; restarts: number }> {
  return page.evaluate(() => {
    const { pcs, restarts } = (window as unknown as { __pcs: { pcs: RTCPeerConnection[]; restarts: number } }).__pcs;
    const ufrag = (pc: RTCPeerConnection) => /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1] ?? '';
    const open = pcs.map((pc, i) => [pc, i] as const).filter(([pc]) => pc.signalingState !== 'closed');
    return {
      open: open.map(([, i]) => i),
      created: pcs.length,
      ufrags: open.map(([pc]) => ufrag(pc)),
      states: open.map(([pc]) => pc.connectionState),
      restarts,
    };
  });
}

/** How many incoming RTP streams grow over 1.5 s, across the page's peer connections. */
function flowingStreams(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const { pcs } = (window as unknown as { __pcs: { pcs: RTCPeerConnection[] } }).__pcs;
    const read = async () => {
      const packets = new Map<string, number>();
      for (const pc of pcs) {
        (await pc.getStats()).forEach((s: { type: string; id: string; packetsReceived?: number }) => {
          if (s.type === 'inbound-rtp') packets.set(s.id, s.packetsReceived ?? 0);
        });
      }
      return packets;
    };
    const before = await read();
    await new Promise((r) => setTimeout(r, 1500));
    const after = await read();
    return [...after].filter(([id, n]) => n > (before.get(id) ?? 0)).length;
  });
}

async function link(role: 'instructor' | 'student', subject: string): Promise<string> {
  const token = await lectern.authenticator.issueRoomToken({ room: ROOM, role, subject });
  return `${lectern.url}/r/${ROOM}#token=${token}`;
}

async function open(url: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  contexts.push(context);
  await context.addInitScript(watchPeerConnections);
  const page = await context.newPage();
  pageErrors.watch(page, name);
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
  return page;
}

/** Names on the other people's tiles, sorted. */
function grid(page: Page): Promise<string[]> {
  return page.locator('.tile:not(.local)').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('aria-label') ?? '').sort());
}

/** Frames decoded and audio packets received from `name` both keep growing. */
async function seesAndHears(page: Page, name: string): Promise<void> {
  const read = (key: string) => page.locator(`.tile[aria-label="${name}"]`).evaluate((el: HTMLElement, k) => Number(el.dataset[k] ?? 0), key);
  await expect.poll(() => read('framesDecoded'), SLOW).toBeGreaterThan(0);
  await expect.poll(() => read('audioPackets'), SLOW).toBeGreaterThan(0);
  const frames = await read('framesDecoded');
  const audio = await read('audioPackets');
  await expect.poll(() => read('framesDecoded'), SLOW).toBeGreaterThan(frames);
  await expect.poll(() => read('audioPackets'), SLOW).toBeGreaterThan(audio);
}

describe('breakout rooms in the browser', () => {
  let teacher: Page;
  let ann: Page;
  let ben: Page;
  let cas: Page;
  let people: { page: Page; name: string }[];
  let before: Map<Page, Awaited<ReturnType<typeof connections>>>;

  /** Same peer connections, same ICE credentials, still connected, never restarted. */
  async function sameConnections(): Promise<void> {
    for (const { page } of people) {
      const now = await connections(page);
      const then = before.get(page);
      expect(now.open).toEqual(then?.open);
      expect(now.created).toBe(then?.created);
      expect(now.ufrags).toEqual(then?.ufrags);
      expect(now.restarts).toBe(0);
      expect(now.states.every((s) => s === 'connected')).toBe(true);
    }
  }

  it('four participants join and see each other', async () => {
    teacher = await open(await link('instructor', 'teacher@uni'), 'Teacher');
    ann = await open(await link('student', 'ann@uni'), 'Ann');
    ben = await open(await link('student', 'ben@uni'), 'Ben');
    cas = await open(await link('student', 'cas@uni'), 'Cas');
    people = [
      { page: teacher, name: 'Teacher' },
      { page: ann, name: 'Ann' },
      { page: ben, name: 'Ben' },
      { page: cas, name: 'Cas' },
    ];
    for (const { page, name } of people) {
      const others = people.filter((p) => p.name !== name).map((p) => p.name).sort();
      await expect.poll(() => grid(page), SLOW).toEqual(others);
    }
    await expect.poll(() => flowingStreams(ann), SLOW).toBe(6);
    before = new Map();
    for (const { page } of people) {
      const c = await connections(page);
      expect(c.open).toHaveLength(2);
      expect(c.ufrags.every(Boolean)).toBe(true);
      before.set(page, c);
    }
    expect(await ann.locator('#breakout-panel').isVisible()).toBe(false);
  }, 120_000);

  it('split by hand into two rooms: each sees and hears only their own group, on the same connections', async () => {
    await teacher.getByLabel('Number of rooms').fill('2');
    await teacher.getByLabel('Who goes where').selectOption('manual');
    const assign = teacher.getByRole('list', { name: 'Assign participants' });
    await assign.getByLabel('Teacher (you)').selectOption('1');
    await assign.getByLabel('Ann', { exact: true }).selectOption('1');
    await assign.getByLabel('Ben', { exact: true }).selectOption('2');
    await assign.getByLabel('Cas', { exact: true }).selectOption('2');
    await teacher.getByRole('button', { name: 'Start breakout rooms' }).click();

    await expect.poll(() => grid(ann), SLOW).toEqual(['Teacher']);
    await expect.poll(() => grid(teacher), SLOW).toEqual(['Ann']);
    await expect.poll(() => grid(ben), SLOW).toEqual(['Cas']);
    await expect.poll(() => grid(cas), SLOW).toEqual(['Ben']);
    await seesAndHears(ann, 'Teacher');
    await seesAndHears(ben, 'Cas');
    // Hear and see only their own group: of everything coming in, exactly one person's audio and video grow.
    for (const { page } of people) await expect.poll(() => flowingStreams(page), SLOW).toBe(2);
    await expect.poll(() => ann.locator('#breakout-where').textContent(), SLOW).toBe('You are in breakout Room 1');
    await expect.poll(() => ben.locator('#breakout-where').textContent(), SLOW).toBe('You are in breakout Room 2');
    expect(await teacher.locator('#breakout-where').textContent()).toBe('Visiting breakout Room 1');
    await sameConnections();

    // Chat stays in its room; a broadcast reaches every room.
    await ben.getByLabel('Message').fill('room two only');
    await ben.getByLabel('Message').press('Enter');
    await cas.locator('#chat-log li', { hasText: 'room two only' }).waitFor(SLOW);
    await teacher.getByLabel('Announcement to every room').fill('Five minutes left');
    await teacher.getByRole('button', { name: 'Broadcast' }).click();
    for (const { page } of people) await page.locator('#breakout-messages li', { hasText: 'Teacher: Five minutes left' }).waitFor(SLOW);
    expect(await ann.locator('#chat-log li', { hasText: 'room two only' }).count()).toBe(0);
    await ben.screenshot({ path: join(ARTIFACTS, 'breakout-student-view.png') });
    await teacher.screenshot({ path: join(ARTIFACTS, 'breakout-instructor-view.png') });
  }, 120_000);

  it('bringing everyone back restores one grid on the same connections', async () => {
    await teacher.getByRole('button', { name: 'Bring everyone back' }).click();
    for (const { page, name } of people) {
      const others = people.filter((p) => p.name !== name).map((p) => p.name).sort();
      await expect.poll(() => grid(page), SLOW).toEqual(others);
    }
    await seesAndHears(ben, 'Ann');
    await seesAndHears(ann, 'Cas');
    for (const { page } of people) await expect.poll(() => flowingStreams(page), SLOW).toBe(6);
    expect(await ann.locator('#breakout-banner').isVisible()).toBe(false);
    await sameConnections();
  }, 120_000);

  it('a timed split warns, then returns everyone by itself', async () => {
    await teacher.getByLabel('Who goes where').selectOption('random');
    await teacher.getByLabel('Number of rooms').fill('2');
    await teacher.getByLabel('Duration in minutes (optional)').fill('0.1');
    await teacher.getByRole('button', { name: 'Start breakout rooms' }).click();
    // Random: the three students are split 2 + 1; the teacher stays in the main room.
    await expect.poll(() => grid(teacher), SLOW).toEqual([]);
    const sizes = await Promise.all([ann, ben, cas].map((page) => expect.poll(() => grid(page), SLOW).not.toContain('Teacher').then(() => grid(page))));
    expect(sizes.map((g) => g.length).sort()).toEqual([0, 1, 1]);
    await expect.poll(() => ann.locator('#breakout-time').textContent(), SLOW).toMatch(/^0:0\d left$/);
    for (const page of [ann, ben, cas]) {
      await expect.poll(() => page.locator('#breakout-warning').textContent(), SLOW).toContain('end in 3 seconds');
    }
    // Nobody clicks anything now: the server's timer brings everyone back.
    for (const { page, name } of people) {
      const others = people.filter((p) => p.name !== name).map((p) => p.name).sort();
      await expect.poll(() => grid(page), SLOW).toEqual(others);
    }
    await expect.poll(() => ann.locator('#breakout-banner').isVisible(), SLOW).toBe(false);
    for (const { page } of people) await expect.poll(() => flowingStreams(page), SLOW).toBe(6);
    await sameConnections();
  }, 120_000);

  it('an anonymous poll: students are told, answer once, the instructor sees live results and shares them', async () => {
    await teacher.getByText('New poll').click();
    await teacher.getByLabel('Question').fill('Was the split clear?');
    await teacher.getByLabel('Answers').selectOption('yesno');
    await teacher.getByRole('button', { name: 'Ask the class' }).click();
    await ann.locator('#poll-card').waitFor({ state: 'visible', ...SLOW });
    expect(await ann.locator('#poll-privacy').textContent()).toBe('Anonymous: your name is not stored with your answer.');
    await ann.getByRole('radio', { name: 'Yes' }).check();
    await ann.getByRole('button', { name: 'Answer' }).click();
    await ann.locator('#poll-thanks').waitFor({ state: 'visible', ...SLOW });
    expect(await ann.getByRole('button', { name: 'Answer' }).isDisabled()).toBe(true);
    await ben.getByRole('radio', { name: 'No' }).check();
    await ben.getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => teacher.locator('#poll-counts li').allTextContents(), SLOW).toEqual(['Yes: 1 (50%)', 'No: 1 (50%)']);
    expect(await teacher.locator('#poll-responses li').count()).toBe(0);
    // Students see no results until the instructor shares them.
    expect(await cas.locator('#poll-results').isVisible()).toBe(false);
    await teacher.getByRole('button', { name: 'Share results' }).click();
    await expect.poll(() => cas.locator('#poll-counts li').allTextContents(), SLOW).toEqual(['Yes: 1 (50%)', 'No: 1 (50%)']);
  }, 60_000);
});
