// What the SFU and recording tests share: an Sfu on loopback that is closed (its workers waited
// for) after the test, a cleanup list run last-first after each test, and polling with a name.
import { afterEach } from 'vitest';
import { Sfu, type SfuOptions } from '../../sfu/index.js';

export type Cleanups = Array<() => Promise<void> | void>;

/** Loopback, any ports, no respawn (a test that kills a worker wants it to stay dead). */
export const TEST_SFU_OPTIONS: SfuOptions = {
  workers: 1,
  listenIp: '127.0.0.1',
  rtcPort: 0,
  logLevel: 'warn',
  maxIncomingBitrate: 3_000_000,
  initialAvailableOutgoingBitrate: 1_000_000,
  respawn: false,
};

/** What to undo after each test of the calling file, last first. Call once, at the file's top level. */
export function cleanupAfterEach(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** An Sfu for one test; `cleanups` closes it and waits until its workers are gone. */
export async function startTestSfu(cleanups: Cleanups, options: Partial<SfuOptions> = {}): Promise<Sfu> {
  const sfu = await Sfu.create({ ...TEST_SFU_OPTIONS, ...options });
  cleanups.push(async () => {
    const exits = sfu.pool.workers.map((w) => new Promise<void>((r) => (w.worker.closed ? r() : w.worker.observer.once('close', () => r()))));
    sfu.close();
    await Promise.all(exits);
  });
  return sfu;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` (it may ask a server: then it is awaited) every 50 ms; throws "timed out waiting for <what>" after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
