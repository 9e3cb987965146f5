// Only what is seen is sent (#14, item 4): a viewer whose gallery shows 4 tiles a page decodes
// exactly the 4 cameras on its page, while the SFU holds the viewer's consumers of the cameras on
// the other page paused; turning the page swaps which are paused. Six real Chromium participants
// send cameras; the viewer's page size is set through its own view options. Runs inside a
// loopback-only network namespace (scripts/in-netns.sh).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
// Before any worker starts: it watches mediasoup's observer to read what the SFU really forwards.
import { consumersOnTransport, mediasoupConsumer, transportOfConsumer } from '../helpers/mediasoupLookup.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { projectRoot } from '../../server/paths.js';
import { watchPeerConnections } from '../helpers/watchPeerConnections.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
const ROOM = 'e2e-gallery';
const SENDERS = ['Ada', 'Ben', 'Cas', 'Dee', 'Eli', 'Fay'];
// Seven browsers, a server and media share two cores with other work: give round trips time.
const SLOW = { timeout: 45_000, interval: 500 };

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh').toEqual([]);
  lectern = await startLectern({}, { workers: 2 });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await lectern?.close();
});

/** Incoming video streams whose decoded frame count grows over two seconds, across the page's connections. */
function decodingVideoStreams(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const read = async () => {
      const frames = new Map<string, number>();
      for (const pc of pcs) {
        if (pc.signalingState === 'closed') continue;
        (await pc.getStats()).forEach((s: { type: string; kind?: string; id: string; framesDecoded?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') frames.set(s.id, s.framesDecoded ?? 0);
        });
      }
      return frames;
    };
    const before = await read();
    await new Promise((r) => setTimeout(r, 2000));
    const after = await read();
    return [...after].filter(([id, n]) => n > (before.get(id) ?? 0)).length;
  });
}

async function joinClass(name: string, options: { camera: boolean; viewport: { width: number; height: number } }): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport });
  contexts.push(context);
  await context.addInitScript(watchPeerConnections);
  const page = pageErrors.watch(await context.newPage(), name);
  await page.goto(`${lectern.url}/r/${ROOM}`);
  await page.getByLabel('Your name').fill(name);
  if (!options.camera) await page.getByLabel('Camera').uncheck();
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
  return page;
}

/** The senders whose tiles are on the viewer's page now (their names). */
function namesOnPage(page: Page): Promise<string[]> {
  return page.locator('#grid .tile:not(.local)').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('aria-label') ?? '').sort());
}

/** The viewer's video consumers in the SFU, split by whether the worker has them paused. */
function serverView(viewerConsumerId: string): { paused: string[]; sending: string[]; total: number } {
  const transportId = transportOfConsumer(viewerConsumerId);
  expect(transportId, 'the viewer’s receive transport is live in the worker').toBeDefined();
  const video = consumersOnTransport(transportId!).filter((c) => c.kind === 'video');
  return {
    paused: video.filter((c) => c.paused).map((c) => c.producerId).sort(),
    sending: video.filter((c) => !c.paused).map((c) => c.producerId).sort(),
    total: video.length,
  };
}

/** Audio elements of participants not on the page, and how many of them are playing a track. */
function offPageAudio(page: Page): Promise<{ elements: number; playing: number }> {
  return page.evaluate(() => {
    const audio = [...document.querySelectorAll<HTMLAudioElement>('#audio-out audio')];
    const playing = audio.filter((a) => a.srcObject !== null && !a.paused && (a.srcObject as MediaStream).getAudioTracks().some((t) => t.readyState === 'live'));
    return { elements: audio.length, playing: playing.length };
  });
}

/** Producer ids of the cameras on the viewer's page (the tiles say which track they show). */
async function producersOnPage(page: Page): Promise<string[]> {
  const ids = await page.locator('#grid .tile:not(.local)').evaluateAll((tiles) => tiles.map((t) => (t as HTMLElement).dataset.videoProducer ?? ''));
  return ids.filter(Boolean).sort();
}

describe('the paged gallery', () => {
  it('decodes only the page on screen, and the server pauses the rest until the page turns', async () => {
    // Six cameras; each sender watches in low bandwidth (no video in), so the machine's cores go to the viewer.
    const senders: Page[] = [];
    for (const name of SENDERS) {
      const page = await joinClass(name, { camera: true, viewport: { width: 800, height: 600 } });
      await page.getByRole('button', { name: 'Low bandwidth' }).click();
      await expect.poll(() => page.getByRole('button', { name: 'Low bandwidth' }).getAttribute('aria-pressed'), SLOW).toBe('true');
      senders.push(page);
    }
    const viewer = await joinClass('Viewer', { camera: false, viewport: { width: 1280, height: 800 } });
    await viewer.getByRole('button', { name: 'View' }).click();
    await viewer.getByLabel('Tiles per page').selectOption('4');
    await viewer.keyboard.press('Escape');

    await expect.poll(() => viewer.locator('#page-label').textContent(), SLOW).toBe('Page 1 of 2');
    await expect.poll(() => viewer.locator('#class-count').textContent(), SLOW).toBe('7 in the class');
    await expect.poll(() => namesOnPage(viewer), SLOW).toHaveLength(4);
    const firstPage = await namesOnPage(viewer);
    // Exactly the page's four cameras are decoded.
    await expect.poll(() => decodingVideoStreams(viewer), SLOW).toBe(4);
    await expect.poll(async () => (await producersOnPage(viewer)).length, SLOW).toBe(4);
    const onFirst = await producersOnPage(viewer);
    const aConsumer = await viewer.locator('#grid .tile:not(.local)').first().getAttribute('data-video-consumer');
    expect(mediasoupConsumer(aConsumer!), 'the tile’s consumer is live in the worker').toBeDefined();
    // The SFU: the page's four sending, the other page's two paused, nothing else held.
    await expect.poll(() => serverView(aConsumer!).sending, SLOW).toEqual(onFirst);
    const first = serverView(aConsumer!);
    expect(first.paused).toHaveLength(2);
    expect(first.total).toBe(6);
    await viewer.screenshot({ path: join(ARTIFACTS, 'gallery-page-1.png') });
    // Audio is not paged: the other page's two are still heard (their sound plays off screen).
    await expect.poll(() => offPageAudio(viewer), SLOW).toEqual({ elements: 2, playing: 2 });

    await viewer.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => viewer.locator('#page-label').textContent(), SLOW).toBe('Page 2 of 2');
    await expect.poll(() => namesOnPage(viewer), SLOW).toEqual(SENDERS.filter((n) => !firstPage.includes(n)).sort());
    await expect.poll(async () => (await producersOnPage(viewer)).length, SLOW).toBe(2);
    const onSecond = await producersOnPage(viewer);
    // The other page's cameras resume, the first page's pause: in the worker, and in what is decoded.
    await expect.poll(() => serverView(aConsumer!).sending, SLOW).toEqual(onSecond);
    expect(serverView(aConsumer!).paused).toEqual(onFirst);
    await expect.poll(() => decodingVideoStreams(viewer), SLOW).toBe(2);
    await viewer.screenshot({ path: join(ARTIFACTS, 'gallery-page-2.png') });

    // And back: the first page's cameras come back.
    await viewer.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => serverView(aConsumer!).sending, SLOW).toEqual(onFirst);
    await expect.poll(() => decodingVideoStreams(viewer), SLOW).toBe(4);
    // The speaker view: one large picture and a strip of four, so five of the six are sent.
    await viewer.getByRole('button', { name: 'View' }).click();
    await viewer.getByLabel('Layout').selectOption('speaker');
    await viewer.keyboard.press('Escape');
    await expect.poll(() => viewer.locator('#grid .tile.main').count(), SLOW).toBe(1);
    await expect.poll(() => serverView(aConsumer!).sending.length, SLOW).toBe(5);
    expect(serverView(aConsumer!).paused).toHaveLength(1);
    await expect.poll(() => decodingVideoStreams(viewer), SLOW).toBe(5);
    await viewer.screenshot({ path: join(ARTIFACTS, 'gallery-speaker-view.png') });
    console.log(`gallery: page 1 ${firstPage.join(', ')} (4 decoding, 2 paused at the SFU, their audio playing); page 2 ${onSecond.length} decoding; back to 4; speaker view 5 sent, 1 paused`);
  }, 240_000);
});
