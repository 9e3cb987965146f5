// How fast people come back after a fault, in Chromium: two participants (camera + microphone) in a
// room of an in-process Lectern (2 workers; in-process so the bench can cut a participant's socket
// and find the room's worker), and, repeated, the three faults of tests/browser/reconnect.test.ts:
// - signalling cut server side and new connections refused for `outageMs`: time from the end of the
//   outage to the page's "Reconnecting…" banner going away (the resume done);
// - all of one participant's UDP black-holed for `outageMs` (lossy relay): time from the end of the
//   black-hole to the banner going away (ICE restarted, media flowing);
// - the room's media worker SIGKILLed: time from the kill to both pages presenting a frame of the
//   other's new video track (target < 3 s).
import os from 'node:os';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { WebSocket as ServerSocket } from 'ws';
import { startLectern, type TestLectern } from '../../tests/helpers/lectern.js';
import { LossyUdpRelay } from '../../tests/helpers/lossyRelay.js';
import { useNetworkPath, type NetworkPath } from '../../tests/helpers/networkPath.js';
import { cutSignalling, nextFrameOfNewTrack, openSockets, roomWorker, videoTrackId } from '../../tests/helpers/faults.js';
import { ensureClientBuilt, launchBenchChromium } from '../lib/browserBench.js';
import { quantile } from '../lib/stats.js';

export interface ReconnectOptions {
  repeats: number;
  outageMs: number;
}

type Fault = 'signallingResumeMs' | 'udpBlackHoleRecoveryMs' | 'workerCrashMediaBackMs';

export interface ReconnectResult {
  repeats: number;
  outageMs: number;
  samples: Record<Fault, number[]>;
  summary: Record<Fault, { p50: number; max: number }>;
  errors: string[];
  loadAverage: number;
  note: string;
}

interface Joined {
  context: BrowserContext;
  page: Page;
}

async function join(browser: Browser, url: string, room: string, name: string, path?: NetworkPath): Promise<Joined> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  // The bench runs under tsx, whose esbuild keeps function names by wrapping them in a `__name`
  // helper; functions serialised into the page (the network path's init script, evaluate
  // callbacks) would throw a ReferenceError there, and the relay path would silently not apply.
  await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
  if (path) await useNetworkPath(context, path);
  const page = await context.newPage();
  await page.goto(`${url}/r/${room}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
  return { context, page };
}

/** Wait until `viewer` presents frames of `sender`'s video (the tile has a live track that renders). */
async function receiving(viewer: Page, sender: string): Promise<void> {
  await nextFrameOfNewTrack(viewer, sender, null);
}

const reconnected = (page: Page) => page.locator('#reconnecting').waitFor({ state: 'hidden', timeout: 60_000 });

export async function measureReconnect(options: ReconnectOptions): Promise<ReconnectResult> {
  ensureClientBuilt();
  const lectern: TestLectern = await startLectern({}, { workers: 2 });
  const relays = await Promise.all(lectern.sfu.pool.workers.map((w) => LossyUdpRelay.start(w.port, Number.MAX_SAFE_INTEGER)));
  const udpVia = Object.fromEntries(lectern.sfu.pool.workers.map((w, i) => [String(w.port), relays[i]!.port]));
  let browser: Browser | undefined;
  const samples: Record<Fault, number[]> = { signallingResumeMs: [], udpBlackHoleRecoveryMs: [], workerCrashMediaBackMs: [] };
  const errors: string[] = [];
  try {
    browser = await launchBenchChromium();
    // Each fault gets a class of its own (a fresh room and pages), as in the tests: after a resume
    // the page may have replaced its transports, whose candidates the relay path did not rewrite.
    const inClass = async (round: number, fault: Fault, measure: (ada: Joined, bob: Joined, adaSockets: ServerSocket[], room: string) => Promise<number>) => {
      const room = `reconnect-${Date.now()}-${round}-${fault}`;
      const contexts: BrowserContext[] = [];
      try {
        const before = openSockets(lectern);
        // Ada's UDP goes through the relay (respawned workers keep their ports, so it still applies).
        const ada = await join(browser!, lectern.url, room, 'Ada', { udpVia });
        contexts.push(ada.context);
        const adaSockets = [...openSockets(lectern)].filter((s) => !before.has(s));
        const bob = await join(browser!, lectern.url, room, 'Bob');
        contexts.push(bob.context);
        await Promise.all([receiving(ada.page, 'Bob'), receiving(bob.page, 'Ada')]);
        samples[fault].push(await measure(ada, bob, adaSockets, room));
      } catch (error) {
        errors.push(`round ${round} ${fault}: ${(error as Error).message.split('\n')[0]}`);
      } finally {
        for (const context of contexts) await context.close().catch(() => undefined);
      }
    };
    const shown = (ada: Joined) => ada.page.locator('#reconnecting').waitFor({ state: 'visible', timeout: options.outageMs + 5000 });
    for (let i = 1; i <= options.repeats; i++) {
      await inClass(i, 'signallingResumeMs', async (ada, _bob, adaSockets) => {
        await Promise.all([cutSignalling(lectern, adaSockets, options.outageMs), shown(ada)]);
        const t = Date.now();
        await reconnected(ada.page);
        return Date.now() - t;
      });
      await inClass(i, 'udpBlackHoleRecoveryMs', async (ada) => {
        await Promise.all([...relays.map((r) => r.blackHole(options.outageMs)), shown(ada)]);
        const t = Date.now();
        await reconnected(ada.page);
        return Date.now() - t;
      });
      await inClass(i, 'workerCrashMediaBackMs', async (ada, bob, _sockets, room) => {
        const [adaSaw, bobSaw] = await Promise.all([videoTrackId(ada.page, 'Bob'), videoTrackId(bob.page, 'Ada')]);
        const back = Promise.all([nextFrameOfNewTrack(ada.page, 'Bob', adaSaw), nextFrameOfNewTrack(bob.page, 'Ada', bobSaw)]);
        const killed = Date.now();
        process.kill(roomWorker(room)!.pid, 'SIGKILL');
        const ms = Math.max(...(await back)) - killed;
        // The pool respawns the dead worker; let it come up before the next class.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        return ms;
      });
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await Promise.all(relays.map((r) => r.close()));
    await lectern.close();
  }
  const stat = (xs: number[]) => ({ p50: quantile(xs, 0.5), max: quantile(xs, 1) });
  return {
    repeats: options.repeats,
    outageMs: options.outageMs,
    samples,
    summary: {
      signallingResumeMs: stat(samples.signallingResumeMs),
      udpBlackHoleRecoveryMs: stat(samples.udpBlackHoleRecoveryMs),
      workerCrashMediaBackMs: stat(samples.workerCrashMediaBackMs),
    },
    errors,
    loadAverage: os.loadavg()[0]!,
    note:
      `${options.repeats} rounds of: signalling cut ${options.outageMs} ms, UDP black-holed ${options.outageMs} ms, room worker SIGKILLed; ` +
      'two Chromium participants, in-process Lectern with 2 workers; times after the fault ends (after the kill for the worker)',
  };
}
