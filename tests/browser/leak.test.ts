// Nothing leaves the machine: real Chromium joins a local class with camera and microphone while a
// second participant is in it, and every request, WebSocket, ICE server and ICE candidate the pages
// use is recorded. Only the server's own origin and loopback addresses are allowed. A second Lectern
// that hands out a public STUN server must be caught, so the detector is known to work.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { findLeaks, LeakRecorder } from '../helpers/leakRecorder.js';

const PUBLIC_STUN = 'stun:stun.l.google.com:19302';

let browser: Browser;
const contexts: BrowserContext[] = [];
const lecterns: TestLectern[] = [];
const pageErrors = new PageErrors();

beforeAll(async () => {
  // The namespace is what makes "nothing leaves the machine" true; refuse to run without it.
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  browser = await launchChromium();
}, 60_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
  for (const lectern of lecterns.splice(0)) await lectern.close();
  pageErrors.expectNone();
});

afterAll(async () => {
  await browser?.close();
});

/** A fresh profile with the recorder installed, joined to `room` on `lectern` as `name`. */
async function joinRecorded(lectern: TestLectern, room: string, name: string): Promise<{ page: Page; recorder: LeakRecorder }> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  contexts.push(context);
  const recorder = await LeakRecorder.install(context);
  const page = pageErrors.watch(await context.newPage(), name);
  await page.goto(`${lectern.url}/r/${room}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible' });
  return { page, recorder };
}

/** Wait until `viewer` decodes video and receives audio from `sender` (the tile keeps the counts). */
async function expectReceiving(viewer: Page, sender: string): Promise<void> {
  const stats = () =>
    viewer.locator(`.tile[aria-label="${sender}"]`).evaluate((el: HTMLElement) => ({
      framesDecoded: Number(el.dataset.framesDecoded ?? 0),
      audioPackets: Number(el.dataset.audioPackets ?? 0),
    }));
  await expect.poll(async () => (await stats()).framesDecoded, { timeout: 20_000, interval: 500 }).toBeGreaterThan(10);
  await expect.poll(async () => (await stats()).audioPackets, { timeout: 20_000, interval: 500 }).toBeGreaterThan(20);
}

/** Addresses a local Lectern's media may use: loopback, and the host the server is reached on. */
const localAddresses = (lectern: TestLectern): string[] => [...new Set(['127.0.0.1', '::1', new URL(lectern.url).hostname])];

describe('what a class page sends, and where', () => {
  it('a call with camera and microphone talks only to the server, over loopback', async () => {
    const lectern = await startLectern();
    lecterns.push(lectern);
    const ada = await joinRecorded(lectern, 'leak-check', 'Ada');
    const bob = await joinRecorded(lectern, 'leak-check', 'Bob');
    await expectReceiving(ada.page, 'Bob');
    await expectReceiving(bob.page, 'Ada');

    for (const [name, { recorder }] of [['Ada', ada], ['Bob', bob]] as const) {
      const recording = await recorder.read();
      // The recorder saw what it should: the page, its WebSocket and working peer connections.
      expect(recording.requests.some((url) => url.startsWith(`${lectern.url}/r/leak-check`))).toBe(true);
      expect(recording.websockets).toEqual([`${lectern.wsUrl}`]);
      const webrtc = recording.webrtc[0]!;
      expect(webrtc.peerConnections).toBeGreaterThanOrEqual(2); // send and receive transports
      expect(webrtc.gathered.length).toBeGreaterThan(0);
      expect(webrtc.stats.selectedPairs.length).toBeGreaterThan(0);
      expect(webrtc.iceServers.flat()).toEqual([]);
      const leaks = findLeaks(recording, { origin: lectern.url, iceAddresses: localAddresses(lectern) });
      expect(leaks, `foreign destinations from ${name}:\n${leaks.join('\n')}`).toEqual([]);
      console.log(
        `${name}: ${recording.requests.length} requests, ${recording.websockets.length} websocket(s), ` +
          `${webrtc.gathered.length} gathered candidates (${[...new Set(webrtc.gathered.map((c) => `${c.type} ${c.protocol} ${c.address}`))].join(', ')}), ` +
          `selected pairs ${webrtc.stats.selectedPairs.map((p) => `${p.local}->${p.remote}`).join(', ')}`,
      );
    }
  }, 120_000);

  it('a server that hands out a public STUN server is caught', async () => {
    const lectern = await startLectern({ ice: { servers: [{ urls: [PUBLIC_STUN] }] } });
    lecterns.push(lectern);
    const ada = await joinRecorded(lectern, 'leak-check', 'Ada');
    const allowed = { origin: lectern.url, iceAddresses: localAddresses(lectern) };
    // Joining with the camera on creates the send transport, which is handed the ICE servers.
    await expect.poll(async () => findLeaks(await ada.recorder.read(), allowed), { timeout: 20_000, interval: 250 }).toContain(
      `ICE server handed to the browser: ${PUBLIC_STUN}`,
    );
    const recording = await ada.recorder.read();
    expect(recording.webrtc[0]!.iceServers.flat()).toContain(PUBLIC_STUN);
    const leaks = findLeaks(recording, allowed);
    console.log(`public STUN config, detected:\n  ${leaks.join('\n  ')}`);
    expect(leaks).toContain(`ICE server handed to the browser: ${PUBLIC_STUN}`);
    // The same destination is allowed only when it is the deployment's own server.
    expect(findLeaks(recording, { origin: lectern.url, iceAddresses: localAddresses(lectern), iceServers: [PUBLIC_STUN] })).toEqual([]);
  }, 120_000);

  it('names each foreign request, websocket and candidate', () => {
    const leaks = findLeaks(
      {
        requests: ['http://127.0.0.1:3000/r/x', 'https://fonts.googleapis.com/css?family=Roboto', 'data:image/png;base64,AAAA'],
        websockets: ['ws://127.0.0.1:3000/ws', 'wss://tracker.example.com/socket'],
        webrtc: [
          {
            iceServers: [[]],
            gathered: [{ address: '127.0.0.1', type: 'host', protocol: 'udp', url: null }, { address: '198.51.100.7', type: 'srflx', protocol: 'udp', url: 'stun:stun.example.net:3478' }],
            candidateErrors: [],
            stats: { local: [], remote: [{ address: '203.0.113.9', type: 'host', protocol: 'udp', url: null }], selectedPairs: [{ local: '127.0.0.1', remote: '203.0.113.9', protocol: 'udp' }] },
            peerConnections: 1,
          },
        ],
      },
      { origin: 'http://127.0.0.1:3000', iceAddresses: ['127.0.0.1'] },
    );
    expect(leaks).toEqual([
      'request to https://fonts.googleapis.com/css?family=Roboto',
      'websocket to wss://tracker.example.com/socket',
      'local candidate srflx 198.51.100.7',
      'candidate from ICE server stun:stun.example.net:3478',
      'remote candidate host 203.0.113.9',
      'selected candidate pair 127.0.0.1 -> 203.0.113.9',
    ]);
  });
});
