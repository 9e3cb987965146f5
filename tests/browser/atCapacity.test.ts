// A join the university's servers cannot carry is refused with a page that says so, in the lobby's
// style, instead of a line under the join form; those in the class are not touched.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { opusParameters } from '../helpers/media.js';

let lectern: TestLectern;
let browser: Browser;
let inClass: SignallingClient | undefined;
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces()).toEqual([]);
  // One worker forwarding 40 packets/s and no reserve: a class with one microphone in it (one not
  // measured yet weighs 50 packets/s) is full for a second guest.
  lectern = await startLectern({ media: { capacity: { packetsPerWorker: 40, reservedForInstructors: 0 } } });
  browser = await launchChromium();
}, 60_000);

afterEach(() => pageErrors.expectNone());

afterAll(async () => {
  inClass?.close();
  await browser?.close();
  await lectern?.close();
});

describe('at capacity', () => {
  it('shows a full-page "this class is full" with the server\'s message when the join is refused', async () => {
    inClass = await SignallingClient.connect(lectern.wsUrl);
    await inClass.ok('join', { room: 'full-201', displayName: 'First' });
    const sendId = (await inClass.ok('createTransport', { direction: 'send' })).id as string;
    await inClass.ok('produce', { transportId: sendId, kind: 'audio', rtpParameters: opusParameters(), source: 'microphone' });

    const page = pageErrors.watch(await browser.newPage(), 'Second');
    await page.goto(`${lectern.url}/r/full-201`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id), { timeout: 10_000 }).toBe('display-name');
    await page.keyboard.type('Second Guest');
    await page.keyboard.press('Enter');
    await page.locator('#at-capacity').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator('#at-capacity h1').textContent()).toBe('This class is full');
    expect(await page.locator('#at-capacity-message').textContent()).toBe("This class has reached the capacity of the university's servers");
    expect(await page.locator('#prejoin').isHidden()).toBe(true);
    expect(await page.locator('#call').isHidden()).toBe(true);
    // The one already in was not let go.
    expect(inClass.received('roomClosed')).toHaveLength(0);
    await page.close();
  });
});
