// End to end: real Chromium tabs with fake camera and microphone join a room on a real Lectern and
// see and hear each other through the SFU. Runs inside a loopback-only network namespace.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { LossyUdpRelay } from '../helpers/lossyRelay.js';
import { LeakRecorder } from '../helpers/leakRecorder.js';
import { networkPath, type NetworkPath } from '../helpers/networkPath.js';
import { projectRoot } from '../../server/paths.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');

let lectern: TestLectern;
let browser: Browser;
// Each test opens its own participants in its own room and closes them after, so one failing
// test cannot leave the next without the people it expects.
const contexts: BrowserContext[] = [];
const pageErrors = new PageErrors();

beforeAll(async () => {
  // The namespace is what makes "nothing leaves the machine" true; refuse to run without it.
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  lectern = await startLectern({}, { workers: 2 });
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
  recorders.clear();
  pageErrors.expectNone();
});

afterAll(async () => {
  await browser?.close();
  await lectern?.close();
});

/** Recorders of the pages that joined over a changed network path. */
const recorders = new Map<Page, LeakRecorder>();

/** Open the room link in a fresh browser profile, type a name and join. */
async function joinAs(name: string, options: { room: string; path?: NetworkPath }): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  contexts.push(context);
  // A changed path is also recorded (LeakRecorder keeps the page's connections and their selected pairs).
  const recorder = options.path ? await LeakRecorder.install(context) : undefined;
  if (options.path) await context.addInitScript(networkPath, options.path);
  const page = pageErrors.watch(await context.newPage(), name);
  if (recorder) recorders.set(page, recorder);
  await page.goto(`${lectern.url}/r/${options.room}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible' });
  return page;
}

/** Stats another participant's tile shows on this page (kept in data-* attributes). */
async function tileStats(page: Page, name: string): Promise<{ framesDecoded: number; audioPackets: number }> {
  const tile = page.locator(`.tile[aria-label="${name}"]`);
  return tile.evaluate((el: HTMLElement) => ({
    framesDecoded: Number(el.dataset.framesDecoded ?? 0),
    audioPackets: Number(el.dataset.audioPackets ?? 0),
  }));
}

/** Transport protocol of the selected candidate pair of every PeerConnection in the page. */
async function selectedProtocols(page: Page): Promise<(string | null)[]> {
  const recording = await recorders.get(page)!.read();
  return recording.webrtc.flatMap((w) => w.stats.selectedPairs.map((pair) => pair.protocol));
}

/** NACKs this page sent for video it receives, and video packets it resent because the SFU asked. */
async function videoRepair(page: Page): Promise<{ nacksSent: number; retransmissionsSent: number }> {
  return page.evaluate(async () => {
    let nacksSent = 0;
    let retransmissionsSent = 0;
    // The page's connections, as the leak recorder keeps them.
    for (const pc of (window as unknown as { __leakRecorder: { pcs: RTCPeerConnection[] } }).__leakRecorder.pcs) {
      if (pc.connectionState !== 'connected') continue;
      (await pc.getStats()).forEach((r: Record<string, unknown>) => {
        if (r.kind !== 'video') return;
        if (r.type === 'inbound-rtp') nacksSent += Number(r.nackCount ?? 0);
        if (r.type === 'outbound-rtp') retransmissionsSent += Number(r.retransmittedPacketsSent ?? 0);
      });
    }
    return { nacksSent, retransmissionsSent };
  });
}

/** Wait until `viewer` decodes video from and receives audio of `sender`, and the count keeps growing. */
async function expectReceiving(viewer: Page, sender: string): Promise<{ framesDecoded: number; audioPackets: number }> {
  await expect.poll(async () => (await tileStats(viewer, sender)).framesDecoded, { timeout: 20_000, interval: 500 }).toBeGreaterThan(10);
  await expect.poll(async () => (await tileStats(viewer, sender)).audioPackets, { timeout: 20_000, interval: 500 }).toBeGreaterThan(20);
  const first = await tileStats(viewer, sender);
  await expect.poll(async () => (await tileStats(viewer, sender)).framesDecoded, { timeout: 10_000, interval: 500 }).toBeGreaterThan(first.framesDecoded);
  return tileStats(viewer, sender);
}

const decoded: Record<string, number> = {};

/** Several people in a fresh room, each decoding every other's video (the class under way). */
async function inCall(room: string, names: string[]): Promise<Page[]> {
  const pages: Page[] = [];
  for (const name of names) pages.push(await joinAs(name, { room }));
  for (const [i, viewer] of pages.entries()) for (const sender of names.filter((_, j) => j !== i)) await expectReceiving(viewer, sender);
  return pages;
}

describe('a class in the browser', () => {
  it('two participants see and hear each other through the SFU', async () => {
    const room = 'e2e-two';
    const ada = await joinAs('Ada', { room });
    const bob = await joinAs('Bob', { room });
    const adaSeesBob = await expectReceiving(ada, 'Bob');
    const bobSeesAda = await expectReceiving(bob, 'Ada');
    decoded['Ada<-Bob'] = adaSeesBob.framesDecoded;
    decoded['Bob<-Ada'] = bobSeesAda.framesDecoded;
    await ada.screenshot({ path: join(ARTIFACTS, 'call-two-participants.png') });
  }, 90_000);

  it('a third participant joining late receives both, and both receive them', async () => {
    const [ada, bob] = await inCall('e2e-late', ['Ada', 'Bob']);
    const cleo = await joinAs('Cleo', { room: 'e2e-late' });
    decoded['Cleo<-Ada'] = (await expectReceiving(cleo, 'Ada')).framesDecoded;
    decoded['Cleo<-Bob'] = (await expectReceiving(cleo, 'Bob')).framesDecoded;
    decoded['Ada<-Cleo'] = (await expectReceiving(ada!, 'Cleo')).framesDecoded;
    decoded['Bob<-Cleo'] = (await expectReceiving(bob!, 'Cleo')).framesDecoded;
    await cleo.screenshot({ path: join(ARTIFACTS, 'call-three-participants.png') });
  }, 120_000);

  it('a participant whose network blocks UDP sees, hears and is seen over ICE-TCP', async () => {
    const room = 'e2e-udp-blocked';
    const eve = await joinAs('Eve', { room });
    const dana = await joinAs('Dana', { room, path: { blockUdp: true } });
    decoded['Dana<-Eve'] = (await expectReceiving(dana, 'Eve')).framesDecoded;
    decoded['Eve<-Dana'] = (await expectReceiving(eve, 'Dana')).framesDecoded;
    // Both of Dana's transports (send and receive) run over TCP.
    expect(await selectedProtocols(dana)).toEqual(['tcp', 'tcp']);
    await dana.getByRole('button', { name: 'Leave' }).click();
    await eve.getByRole('button', { name: 'Leave' }).click();
  }, 90_000);

  it('a participant on a link losing 5% of media packets each way keeps seeing and being seen (NACK + RTX)', async () => {
    const room = 'e2e-lossy';
    const relays = await Promise.all(lectern.sfu.pool.workers.map((w) => LossyUdpRelay.start(w.port, 20)));
    try {
      const udpVia = Object.fromEntries(lectern.sfu.pool.workers.map((w, i) => [String(w.port), relays[i]!.port]));
      const fay = await joinAs('Fay', { room });
      const gus = await joinAs('Gus', { room, path: { udpVia } });
      decoded['Gus<-Fay'] = (await expectReceiving(gus, 'Fay')).framesDecoded;
      decoded['Fay<-Gus'] = (await expectReceiving(fay, 'Gus')).framesDecoded;
      // The relay really dropped media both ways, and repair happened on both legs: Gus asked the
      // SFU to resend what he missed, and the SFU asked Gus to resend what it missed.
      // (Counted while media keeps flowing: on a loaded machine the first frames pass before 20 drops.)
      const droppedNow = () => relays.reduce((n, r) => ({ up: n.up + r.upstream.dropped, down: n.down + r.downstream.dropped }), { up: 0, down: 0 });
      await expect.poll(() => Math.min(droppedNow().up, droppedNow().down), { timeout: 20_000 }).toBeGreaterThan(20);
      const dropped = droppedNow();
      const repair = await videoRepair(gus);
      expect(repair.nacksSent).toBeGreaterThan(0);
      expect(repair.retransmissionsSent).toBeGreaterThan(0);
      console.log('lossy link:', JSON.stringify({ dropped, ...repair }));
      await gus.getByRole('button', { name: 'Leave' }).click();
      await fay.getByRole('button', { name: 'Leave' }).click();
    } finally {
      await Promise.all(relays.map((r) => r.close()));
    }
  }, 90_000);

  it('the active speaker is highlighted (mediasoup ActiveSpeakerObserver)', async () => {
    // Every fake microphone beeps alike; with Ada's and Bob's muted, Cleo is the only one the
    // observer can name, so each page must highlight her tile, and only hers.
    const [ada, bob] = await inCall('e2e-speaker', ['Ada', 'Bob', 'Cleo']);
    for (const page of [ada!, bob!]) {
      await page.getByRole('button', { name: 'Mute mic' }).click();
      await page.getByRole('button', { name: 'Unmute mic' }).waitFor();
    }
    for (const page of [ada!, bob!]) {
      await expect.poll(() => page.locator('.tile.speaking').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('aria-label'))), { timeout: 20_000 }).toEqual(['Cleo']);
    }
  }, 120_000);

  it('muting the camera shows a badge on the others and unmuting brings video back', async () => {
    const [ada, bob] = await inCall('e2e-camera', ['Ada', 'Bob']);
    await bob!.getByRole('button', { name: 'Stop camera' }).click();
    await ada!.locator('.tile[aria-label="Bob"] .badge', { hasText: 'camera off' }).waitFor();
    await bob!.getByRole('button', { name: 'Start camera' }).click();
    await ada!.locator('.tile[aria-label="Bob"] .badge').waitFor({ state: 'detached' });
    await expectReceiving(ada!, 'Bob');
  }, 90_000);

  it('a participant who leaves disappears from everyone else’s grid', async () => {
    const [ada, bob, cleo] = await inCall('e2e-leave', ['Ada', 'Bob', 'Cleo']);
    await bob!.getByRole('button', { name: 'Leave' }).click();
    await ada!.locator('.tile[aria-label="Bob"]').waitFor({ state: 'detached', timeout: 10_000 });
    await cleo!.locator('.tile[aria-label="Bob"]').waitFor({ state: 'detached', timeout: 10_000 });
    expect((await ada!.locator('.tile').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('aria-label')))).sort()).toEqual(['Ada (you)', 'Cleo']);
    console.log('frames decoded per direction:', JSON.stringify(decoded));
  }, 120_000);
});
