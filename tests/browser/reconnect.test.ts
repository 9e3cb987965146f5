// People come back by themselves: real Chromium participants on a real Lectern, inside the
// loopback-only namespace, through three faults a class meets on home Wi-Fi and long links: the
// signalling connection cut (and refused) for 5 s, all UDP black-holed for 5 s, and the room's
// media worker SIGKILLed. Each time the participant decodes the others' video again with no user
// action, and the others never see her leave; past the grace window they do, and she joins again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces } from '../helpers/chromium.js';
import { LossyUdpRelay } from '../helpers/lossyRelay.js';
import { useNetworkPath, type NetworkPath } from '../helpers/networkPath.js';
import { cutSignalling, nextFrameOfNewTrack, openSockets, roomWorker, videoTrackId } from '../helpers/faults.js';

const OUTAGE_MS = 5000;

let lectern: TestLectern;
let browser: Browser;
const contexts: BrowserContext[] = [];
const lecterns: TestLectern[] = [];

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  lectern = await startLectern({}, { workers: 2 });
  lecterns.push(lectern);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  for (const l of lecterns) await l.close();
});

/** A joined page, the notifications it received (every socket it opened), and its uncaught errors. */
interface Participant {
  page: Page;
  notifications: { method: string; data: Record<string, unknown> }[];
  /** Methods of the requests it sent. */
  requests: string[];
  errors: Error[];
}

async function joinAs(
  name: string,
  room: string,
  options: { path?: NetworkPath; on?: TestLectern; token?: string; lobby?: boolean } = {},
): Promise<Participant> {
  const server = options.on ?? lectern;
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  contexts.push(context);
  if (options.path) await useNetworkPath(context, options.path);
  const page = await context.newPage();
  const participant: Participant = { page, notifications: [], requests: [], errors: [] };
  page.on('pageerror', (error) => participant.errors.push(error));
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as { kind: string; method: string; data: Record<string, unknown> };
      if (frame.kind === 'notification') participant.notifications.push({ method: frame.method, data: frame.data });
    });
    ws.on('framesent', ({ payload }) => participant.requests.push((JSON.parse(String(payload)) as { method: string }).method));
  });
  await page.goto(`${server.url}/r/${room}${options.token ? `#token=${options.token}` : ''}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator(options.lobby ? '#waiting' : '#call').waitFor({ state: 'visible' });
  return participant;
}

/** My own peer id, as the page shows it on my tile. */
async function ownPeerId(p: Participant): Promise<string> {
  return (await p.page.locator('.tile.local').getAttribute('data-peer-id'))!;
}

async function framesDecoded(viewer: Participant, sender: string): Promise<number> {
  return viewer.page.locator(`.tile[aria-label="${sender}"]`).evaluate((el: HTMLElement) => Number(el.dataset.framesDecoded ?? 0));
}

/** `viewer` is decoding `sender`'s video now: the count grows between two stats ticks. */
async function expectDecoding(viewer: Participant, sender: string, timeout = 30_000): Promise<void> {
  await expect
    .poll(
      async () => {
        const before = await framesDecoded(viewer, sender);
        await new Promise((resolve) => setTimeout(resolve, 1200));
        return (await framesDecoded(viewer, sender)) > before;
      },
      { timeout, interval: 200 },
    )
    .toBe(true);
}

/** Peer ids a participant was told left, and told joined. */
function presence(p: Participant): { left: string[]; joined: string[] } {
  const left = p.notifications.filter((n) => n.method === 'peersLeft').flatMap((n) => n.data.peerIds as string[]);
  const joined = p.notifications.filter((n) => n.method === 'peersJoined').flatMap((n) => (n.data.peers as { id: string }[]).map((x) => x.id));
  return { left, joined };
}

/** She was never seen leaving or joining again, and has exactly one tile. */
async function expectNeverLeft(viewer: Participant, name: string, peerId: string, joinsBefore: number): Promise<void> {
  const seen = presence(viewer);
  expect(seen.left).not.toContain(peerId);
  expect(seen.joined.slice(joinsBefore)).not.toContain(peerId);
  expect(await viewer.page.locator(`.tile[aria-label="${name}"]`).count()).toBe(1);
}

/** The page shows "Reconnecting…" at some point within `timeout`. */
async function expectReconnectingShown(p: Participant, timeout: number): Promise<void> {
  await p.page.locator('#reconnecting').waitFor({ state: 'visible', timeout });
}

const measured: Record<string, number> = {};

describe('coming back after a network fault', () => {
  it('the signalling connection cut and refused for 5 s: she resumes as herself; Bob never sees her leave', async () => {
    const room = 'reconnect-ws';
    const before = openSockets(lectern);
    const ada = await joinAs('Ada', room);
    const adaSockets = [...openSockets(lectern)].filter((s) => !before.has(s));
    const bob = await joinAs('Bob', room);
    await expectDecoding(ada, 'Bob');
    await expectDecoding(bob, 'Ada');
    const adaId = await ownPeerId(ada);
    const bobJoinsBefore = presence(bob).joined.length;
    const adaNotesBefore = ada.notifications.length;

    const cut = Date.now();
    const outage = cutSignalling(lectern, adaSockets, OUTAGE_MS);
    await expectReconnectingShown(ada, OUTAGE_MS);
    // Said while she is away; she must get it once back.
    await bob.page.getByLabel('Message').fill('did Ada drop?');
    await bob.page.getByRole('button', { name: 'Send' }).click();
    expect(await outage).toBeGreaterThan(0); // she kept trying, and was refused, while it was down

    await ada.page.locator('#reconnecting').waitFor({ state: 'hidden', timeout: 20_000 });
    measured.signallingResumeMs = Date.now() - cut - OUTAGE_MS;
    expect(await ownPeerId(ada)).toBe(adaId);
    expect(ada.requests.filter((m) => m === 'resume').length).toBeGreaterThan(0);
    expect(ada.requests.filter((m) => m === 'join')).toHaveLength(1);
    await expect.poll(() => ada.page.locator('#chat-log').textContent(), { timeout: 10_000 }).toContain('did Ada drop?');
    // The resumed connection acts as Ada: her raised hand reaches Bob.
    await ada.page.getByRole('button', { name: 'Raise hand' }).click();
    await expect.poll(() => bob.page.locator('#hand-list').textContent(), { timeout: 10_000 }).toContain('Ada');
    await expectDecoding(ada, 'Bob');
    await expectDecoding(bob, 'Ada');
    await expectNeverLeft(bob, 'Ada', adaId, bobJoinsBefore);
    // Her own page was not told she joined again either.
    expect(ada.notifications.slice(adaNotesBefore).some((n) => n.method === 'peersJoined' && (n.data.peers as { id: string }[]).some((p) => p.id === adaId))).toBe(false);
    expect([...ada.errors, ...bob.errors]).toEqual([]);
  }, 120_000);

  it('all her UDP black-holed for 5 s: ICE restart brings video back both ways; Bob never sees her leave', async () => {
    const room = 'reconnect-udp';
    // No random loss: the relay only black-holes on demand.
    const relays = await Promise.all(lectern.sfu.pool.workers.map((w) => LossyUdpRelay.start(w.port, Number.MAX_SAFE_INTEGER)));
    try {
      const udpVia = Object.fromEntries(lectern.sfu.pool.workers.map((w, i) => [String(w.port), relays[i]!.port]));
      const bob = await joinAs('Bob', room);
      const ada = await joinAs('Ada', room, { path: { udpVia } });
      await expectDecoding(ada, 'Bob');
      await expectDecoding(bob, 'Ada');
      const adaId = await ownPeerId(ada);
      const bobJoinsBefore = presence(bob).joined.length;

      const start = Date.now();
      const outage = Promise.all(relays.map((r) => r.blackHole(OUTAGE_MS)));
      // The page says so instead of showing a frozen grid.
      await expectReconnectingShown(ada, OUTAGE_MS + 5000);
      await outage;
      expect(relays.reduce((n, r) => n + r.blackHoled, 0)).toBeGreaterThan(50);
      await ada.page.locator('#reconnecting').waitFor({ state: 'hidden', timeout: 30_000 });
      measured.udpBlackHoleRecoveryMs = Date.now() - start - OUTAGE_MS;
      // Her client noticed the dead path and restarted ICE (Chrome alone would wait 10 s and more).
      expect(ada.requests).toContain('restartIce');
      await expectDecoding(ada, 'Bob');
      await expectDecoding(bob, 'Ada');
      await expectNeverLeft(bob, 'Ada', adaId, bobJoinsBefore);
      expect([...ada.errors, ...bob.errors]).toEqual([]);
    } finally {
      await Promise.all(relays.map((r) => r.close()));
    }
  }, 120_000);

  it("the room's media worker SIGKILLed: both are moved to a live worker and decode each other again by themselves", async () => {
    const room = 'reconnect-worker';
    const ada = await joinAs('Ada', room);
    const bob = await joinAs('Bob', room);
    await expectDecoding(ada, 'Bob');
    await expectDecoding(bob, 'Ada');
    const adaId = await ownPeerId(ada);
    const bobJoinsBefore = presence(bob).joined.length;
    const [adaSawBob, bobSawAda] = await Promise.all([videoTrackId(ada.page, 'Bob'), videoTrackId(bob.page, 'Ada')]);
    const backOnAda = nextFrameOfNewTrack(ada.page, 'Bob', adaSawBob);
    const backOnBob = nextFrameOfNewTrack(bob.page, 'Ada', bobSawAda);

    const worker = roomWorker(room)!;
    const killed = Date.now();
    process.kill(worker.pid, 'SIGKILL');
    const [adaBack, bobBack] = await Promise.all([backOnAda, backOnBob]);
    measured.workerCrashMediaBackMs = Math.max(adaBack, bobBack) - killed;
    expect(roomWorker(room)).not.toBe(worker);
    await expectDecoding(ada, 'Bob');
    await expectDecoding(bob, 'Ada');
    await expect.poll(() => ada.page.locator('#reconnecting').isHidden(), { timeout: 10_000 }).toBe(true);
    await expectNeverLeft(bob, 'Ada', adaId, bobJoinsBefore);
    expect(ada.notifications.some((n) => n.method === 'roomClosed')).toBe(false);
    // Every consumer closed at once with the worker, under a running stats timer: no InvalidStateError.
    expect([...ada.errors, ...bob.errors]).toEqual([]);
  }, 120_000);

  it('a drop while waiting in the lobby keeps her place: admitted meanwhile, she is in the class with no click', async () => {
    const room = 'reconnect-lobby';
    const instructor = await lectern.authenticator.issueRoomToken({ room, role: 'instructor', subject: 'teacher@uni.example' });
    const teacher = await joinAs('Teacher', room, { token: instructor });
    await teacher.page.getByRole('button', { name: 'Turn lobby on' }).click();
    await teacher.page.getByRole('button', { name: 'Turn lobby off' }).waitFor();
    const before = openSockets(lectern);
    const ann = await joinAs('Ann', room, { lobby: true });
    const annSockets = [...openSockets(lectern)].filter((s) => !before.has(s));
    await teacher.page.getByRole('button', { name: 'Admit Ann' }).waitFor();
    const outage = cutSignalling(lectern, annSockets, OUTAGE_MS);
    // Still in the lobby list while her connection is down; admitted from there.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await teacher.page.getByRole('button', { name: 'Admit Ann' }).click();
    await outage;
    await ann.page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await expectDecoding(ann, 'Teacher');
    await expectDecoding(teacher, 'Ann');
    expect(ann.requests.filter((m) => m === 'join')).toHaveLength(1);
    expect(ann.requests).toContain('resume');
    expect([...ann.errors, ...teacher.errors]).toEqual([]);
  }, 120_000);

  it('away past the grace window: the others see her leave, and she joins again by herself', async () => {
    const short = await startLectern({ signalling: { resumeGraceSeconds: 3 } }, { workers: 1 });
    lecterns.push(short);
    const room = 'reconnect-expired';
    const before = openSockets(short);
    const ada = await joinAs('Ada', room, { on: short });
    const adaSockets = [...openSockets(short)].filter((s) => !before.has(s));
    const bob = await joinAs('Bob', room, { on: short });
    await expectDecoding(bob, 'Ada');
    const adaId = await ownPeerId(ada);

    await cutSignalling(short, adaSockets, OUTAGE_MS);
    // Bob was told she left once the 3 s had passed, while she was still cut off.
    expect(presence(bob).left).toContain(adaId);
    // She comes back as a new participant, with no click: the page joined again by itself.
    await expect.poll(async () => (await ownPeerId(ada).catch(() => adaId)) !== adaId, { timeout: 30_000 }).toBe(true);
    const newId = await ownPeerId(ada);
    await expect.poll(() => presence(bob).joined, { timeout: 10_000 }).toContain(newId);
    await expectDecoding(ada, 'Bob');
    await expectDecoding(bob, 'Ada');
    expect(await bob.page.locator('.tile[aria-label="Ada"]').count()).toBe(1);
  }, 120_000);

  it('a stats tick on a consumer that just closed is no uncaught InvalidStateError', async () => {
    const room = 'reconnect-stats';
    const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
    contexts.push(context);
    // Slow stats reads (a busy laptop): the page's once-a-second stats update is then almost always
    // in the middle of a read when Bob's tracks close.
    await context.addInitScript(() => {
      const read = RTCRtpReceiver.prototype.getStats;
      RTCRtpReceiver.prototype.getStats = async function (this: RTCRtpReceiver) {
        await new Promise((resolve) => setTimeout(resolve, 900));
        return read.call(this);
      };
    });
    const page = await context.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (error) => errors.push(error));
    await page.goto(`${lectern.url}/r/${room}`);
    await page.getByLabel('Your name').fill('Ada');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#call').waitFor({ state: 'visible' });
    const bob = await joinAs('Bob', room);
    await expect.poll(() => page.locator('.tile[aria-label="Bob"]').evaluate((el: HTMLElement) => Number(el.dataset.framesDecoded ?? 0)), { timeout: 30_000 }).toBeGreaterThan(0);
    await bob.page.getByRole('button', { name: 'Leave' }).click();
    await page.locator('.tile[aria-label="Bob"]').waitFor({ state: 'detached', timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the reads in flight finish
    expect(errors.map((e) => e.message)).toEqual([]);
  }, 90_000);

  afterAll(() => {
    console.log('reconnect times:', JSON.stringify(measured));
  });
});
