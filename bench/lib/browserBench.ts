// What the Chromium scenarios (seminar, join latency) share: a real Lectern in a process of its own
// (lecternServer.ts: the default config, a real Sfu with 2 workers on 127.0.0.1), Debian's
// Chromium through playwright-core, a page-side probe injected before the client runs, and CPU
// accounting from /proc for the mediasoup workers, the Chromium processes and the whole machine.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../tests/helpers/chromium.js';
import { startLecternProcess, type LecternProcess } from './lecternProcess.js';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Build the client if client/dist is missing (the pages are served from it). */
export function ensureClientBuilt(): void {
  if (existsSync(join(projectDir, 'client', 'dist', 'app.js'))) return;
  const r = spawnSync(process.execPath, [join(projectDir, 'scripts', 'build-client.mjs')], { stdio: 'inherit', cwd: projectDir });
  if (r.status !== 0) throw new Error('client build failed (node scripts/build-client.mjs)');
}

/** Start Lectern as `npm start` would (default config: one worker per core) in its own process, on OS-chosen ports. */
export async function startBenchLectern(): Promise<LecternProcess> {
  ensureClientBuilt();
  return startLecternProcess('default');
}

/** Headless Chromium with fake camera/microphone (the tests' launcher); no throttling of pages that are not in front. */
export function launchBenchChromium(): Promise<Browser> {
  return launchChromium(['--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows']);
}

/** Page-side probe: a string, not a function, so no transpiler helper can leak into the page. */
export function probeScript(camera?: { width: number; height: number; fps: number }): string {
  return `(() => {
  const probe = { click: null, joinSent: null, joinId: null, joined: null, firstFrameRvfc: null, firstFramePresented: null, firstFramePoll: null, firstFrameSize: null, firstTrack: null, pcConnected: null, pcs: [], timeline: [] };
  window.__benchProbe = probe;
  // Resolved once both first-frame signals are in, so the bench can wait with one evaluate instead
  // of polling the page (polling costs the joiner's renderer the CPU it needs to join).
  let framed;
  window.__benchFramed = new Promise((resolve) => { framed = resolve; });
  const checkFramed = () => { if (probe.firstFrameRvfc !== null && probe.firstFramePoll !== null) framed(); };
  // Every step after the click, for finding where the time goes: [ms since page start, what].
  const mark = (what) => { if (probe.click !== null && probe.timeline.length < 200) probe.timeline.push([performance.now(), what]); };
  const methods = new Map();
  const camera = ${JSON.stringify(camera ?? null)};
  if (camera) {
    // Ask the fake camera for a smaller picture than the client's 960x540 (the only change).
    const gum = MediaDevices.prototype.getUserMedia;
    MediaDevices.prototype.getUserMedia = function (c) {
      if (c && c.video) c = { ...c, video: { width: { ideal: camera.width }, height: { ideal: camera.height }, frameRate: { ideal: camera.fps } } };
      return gum.call(this, c);
    };
  }
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...args) {
      super(...args);
      const n = probe.pcs.push(this);
      mark('pc' + n + ' created');
      this.addEventListener('iceconnectionstatechange', () => mark('pc' + n + ' ice ' + this.iceConnectionState));
      this.addEventListener('connectionstatechange', () => {
        mark('pc' + n + ' ' + this.connectionState);
        if (this.connectionState === 'connected' && probe.pcConnected === null) probe.pcConnected = performance.now();
      });
    }
  };
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      this.addEventListener('open', () => mark('ws open'));
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string') return;
        try {
          const f = JSON.parse(event.data);
          if (f.kind === 'response') mark('< ' + (methods.get(f.id) ?? f.id));
          else mark('! ' + f.method);
          if (probe.joinId !== null && probe.joined === null && f.kind === 'response' && f.id === probe.joinId) probe.joined = performance.now();
        } catch {}
      });
    }
    send(data) {
      try { const f = JSON.parse(data); methods.set(f.id, f.method); mark('> ' + f.method); } catch {}
      if (probe.joinSent === null && typeof data === 'string' && data.includes('"join"')) {
        try { const f = JSON.parse(data); if (f.method === 'join') { probe.joinSent = performance.now(); probe.joinId = f.id; } } catch {}
      }
      return super.send(data);
    }
  };
  document.addEventListener('click', (event) => {
    const t = event.target;
    if (probe.click === null && t && t.closest && t.closest('#join-button')) probe.click = performance.now();
  }, true);
  // First remote frame, two ways: requestVideoFrameCallback (presentationTime of the first frame
  // composited) and getVideoPlaybackQuality().totalVideoFrames polled every 10 ms.
  const hooked = new WeakSet();
  setInterval(() => {
    const now = performance.now();
    for (const v of document.querySelectorAll('.tile:not(.local) video')) {
      if (!v.srcObject) continue;
      if (probe.firstTrack === null) { probe.firstTrack = now; mark('remote video on tile'); }
      if (!hooked.has(v) && v.requestVideoFrameCallback) {
        hooked.add(v);
        v.requestVideoFrameCallback((t, m) => {
          if (probe.firstFrameRvfc !== null) return;
          mark('first frame');
          probe.firstFrameRvfc = performance.now();
          probe.firstFramePresented = m.presentationTime;
          probe.firstFrameSize = m.width + 'x' + m.height;
          checkFramed();
        });
      }
      if (probe.firstFramePoll === null && v.getVideoPlaybackQuality().totalVideoFrames > 0) { probe.firstFramePoll = now; checkFramed(); }
    }
  }, 10);
})();`;
}

/** The probe's record of one page. */
export interface Probe {
  click: number | null;
  joinSent: number | null;
  joined: number | null;
  firstFrameRvfc: number | null;
  firstFramePresented: number | null;
  firstFramePoll: number | null;
  firstFrameSize: string | null;
  /** First remote video track attached to a tile (10 ms poll). */
  firstTrack: number | null;
  /** First PeerConnection (send or receive) connected. */
  pcConnected: number | null;
  /** Steps after the click: [performance.now(), what] (requests, replies, notifications, PeerConnection states). */
  timeline: [number, string][];
}

/** Wait in the page until it has decoded a remote frame, or `ms` passed. */
export const waitForFirstFrame = (page: Page, ms: number): Promise<unknown> =>
  page.evaluate(`Promise.race([window.__benchFramed, new Promise((resolve) => setTimeout(resolve, ${ms}))])`);

export const readProbe = (page: Page): Promise<Probe> =>
  page.evaluate(`(() => { const { pcs, joinId, ...rest } = window.__benchProbe; return rest; })()`) as Promise<Probe>;

/** Open the room in a fresh profile with the probe, type a name, click Join (no wait). */
export async function openAndClickJoin(
  browser: Browser,
  url: string,
  room: string,
  name: string,
  options: { camera?: { width: number; height: number; fps: number }; viewport?: { width: number; height: number }; sendMedia?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 800, height: 600 } });
  await context.addInitScript({ content: probeScript(options.camera) });
  const page = await context.newPage();
  await page.goto(`${url}/r/${room}`);
  await page.getByLabel('Your name').fill(name);
  if (options.sendMedia === false) {
    await page.locator('#start-camera').setChecked(false);
    await page.locator('#start-mic').setChecked(false);
  }
  await page.getByRole('button', { name: 'Join' }).click();
  return { context, page };
}
