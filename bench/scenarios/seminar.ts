// Seminar: N participants in one room, every one sending camera + microphone and receiving everyone
// else, through a real Lectern (default config: 2 workers; a room lives on one worker). Up to
// `browsers` of them are real Chromium pages; the rest are bots (BotParticipant on BOT_THREADS worker
// threads: werift WebRTC over
// the real signalling protocol, sending a real VP8 clip), because every page encodes and decodes and
// 6 pages already fill 2 cores. After every page decodes every remote video and every bot receives
// every remote video (or a deadline), a warm-up, then a window in which we read: SFU worker CPU
// (/proc), packets the SFU sent to consumers and received from producers (mediasoup stats),
// Chromium and machine CPU, in every page the receiving PeerConnection's inbound-rtp stats (frames
// decoded per remote tile, packets received and lost), and every bot's packets and sequence gaps.
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startBenchLectern, launchBenchChromium, openAndClickJoin } from '../lib/browserBench.js';
import { cpuDelta, cpuOf, descendants, machineTicks, udpDropsOfProcesses, udpRcvbufErrors } from '../lib/proc.js';
import { BotPool } from '../lib/BotPool.js';
import { sumBotCounts } from '../lib/BotParticipant.js';
import { quantile } from '../lib/stats.js';
import type { BotReport } from '../lib/botThread.js';
import { loadWerift } from '../lib/werift.js';
import { vpxencInstalled } from '../lib/vp8Clip.js';

/** Threads for the bots: werift's JavaScript for ten bots is more than one thread keeps up with. */
const BOT_THREADS = 2;

export interface SeminarOptions {
  participants: number;
  /** How many participants are Chromium pages (the rest are bots). */
  browsers: number;
  camera: { width: number; height: number; fps: number };
  windowSeconds: number;
  warmupSeconds: number;
  readyTimeoutSeconds: number;
}

export interface SeminarResult {
  participants: number;
  /** Pages that reached the call (joined and '#call' visible), plus bots that joined. */
  joined: number;
  browsers: number;
  bots: number;
  /** Remote video streams the bots received packets from in the window, and how many there were. */
  botVideoStreams: string;
  botVideoLoss: number;
  botAudioLoss: number;
  /** UDP receive-buffer drops in the window, all sockets (the bench's network namespace), and those at the SFU's own sockets. */
  rcvbufErrors: number;
  sfuSocketDrops: number;
  /** Each bot's window: consumers, and per kind streams/received/lost. */
  botDetails: BotReport[];
  camera: string;
  windowSeconds: number;
  /** Every page decoded every remote video before the window started. */
  allReceiving: boolean;
  secondsToAllReceiving: number;
  remoteTiles: number;
  /** Remote tiles that decoded at least one frame during the window. */
  tilesWithVideo: number;
  fpsMedian: number;
  fpsP10: number;
  fpsMin: number;
  frameHeightMedian: number;
  videoLoss: number;
  audioLoss: number;
  audioPacketsPerSecondMedian: number;
  /** Simulcast layers each page actually sends (outbound-rtp with frames encoded in the window), median. */
  layersSentMedian: number;
  sentHeights: string;
  qualityLimitation: Record<string, number>;
  sfuCpuPercentPerWorker: number[];
  sfuForwardedPerSecond: number;
  sfuReceivedPerSecond: number;
  chromiumCpuPercent: number;
  benchProcessCpuPercent: number;
  /** The Lectern server's Node process (signalling), apart from its mediasoup workers. */
  serverCpuPercent: number;
  machineBusyPercent: number;
  loadAverage: number;
  note: string;
}

type Inbound = { key: string; kind: string; timestamp: number; framesDecoded?: number; packetsReceived?: number; packetsLost?: number; frameHeight?: number };
type Outbound = { key: string; framesEncoded?: number; frameHeight?: number; qualityLimitationReason?: string };

const SAMPLE = `(async () => {
  const inbound = [], outbound = [];
  const pcs = window.__benchProbe.pcs;
  for (let i = 0; i < pcs.length; i++) {
    const pc = pcs[i];
    if (pc.connectionState === 'closed') continue;
    const report = await pc.getStats();
    report.forEach((s) => {
      // mediasoup-client's 'probator' receiver (bandwidth probing, ssrc 1234) is not a participant.
      if (s.type === 'inbound-rtp' && s.mid !== 'probator' && s.ssrc !== 1234) inbound.push({ key: i + '/' + s.id, kind: s.kind, timestamp: s.timestamp, framesDecoded: s.framesDecoded, packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, frameHeight: s.frameHeight });
      if (s.type === 'outbound-rtp' && s.kind === 'video') outbound.push({ key: i + '/' + s.id, framesEncoded: s.framesEncoded, frameHeight: s.frameHeight, qualityLimitationReason: s.qualityLimitationReason });
    });
  }
  return { inbound, outbound };
})()`;

const sample = (page: Page) => page.evaluate(SAMPLE) as Promise<{ inbound: Inbound[]; outbound: Outbound[] }>;

export async function measureSeminar(options: SeminarOptions): Promise<SeminarResult> {
  const { participants: n, camera, windowSeconds } = options;
  const lectern = await startBenchLectern();
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  const room = `seminar-${n}-${Date.now()}`;
  const browsers = Math.min(n, options.browsers);
  let bots: BotPool | undefined;
  let botsJoined = 0;
  let botsRetried: string[] = [];
  try {
    browser = await launchBenchChromium();
    // Join one after another, as students trickle in; each waits until its call view shows.
    for (let i = 0; i < browsers; i++) {
      try {
        const { context, page } = await openAndClickJoin(browser, lectern.url, room, `P${String(i + 1).padStart(2, '0')}`, {
          camera,
          viewport: { width: 800, height: 600 },
        });
        contexts.push(context);
        await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
        pages.push(page);
      } catch (error) {
        console.log(`seminar: participant ${i + 1} could not join: ${(error as Error).message.split('\n')[0]}`);
        break;
      }
    }
    if (n > browsers) {
      if (!vpxencInstalled()) throw new Error('bots need vpxenc for their VP8 (apt-get install vpx-tools, or bench/setup.sh)');
      await loadWerift(); // fails here, with how to install it, rather than in a thread
      bots = await BotPool.start(BOT_THREADS);
      const names = Array.from({ length: n - browsers }, (_, i) => `Bot ${String(i + 1).padStart(2, '0')}`);
      // One layer at half the camera's size: about what the SFU picks from a browser's simulcast for
      // a seminar tile, and what the pages can decode eleven of.
      const clip = { width: camera.width / 2, height: camera.height / 2, fps: camera.fps, kbps: 60 };
      const { failures, retried } = await bots.join(lectern.wsUrl, room, names, clip);
      for (const failure of failures) console.log(`seminar: bot ${failure}`);
      botsJoined = names.length - failures.length;
      botsRetried = retried;
    }
    const joined = pages.length + botsJoined;

    // Ready: every page decodes, and every bot receives, video from every other participant.
    const readyStart = performance.now();
    let allReceiving = false;
    while (performance.now() - readyStart < options.readyTimeoutSeconds * 1000) {
      // (one sample of every page per second at most; a page too starved to answer within 10 s
      // counts as not receiving, so the wait stays near readyTimeoutSeconds on a saturated machine)
      const none = { inbound: [] as Inbound[], outbound: [] };
      const samples = await Promise.all(pages.map((p) => Promise.race([sample(p).catch(() => none), sleep(10_000).then(() => none)])));
      const ok =
        samples.every((s) => s.inbound.filter((x) => x.kind === 'video' && (x.framesDecoded ?? 0) > 0).length >= joined - 1) &&
        (await bots?.counts())?.every((b) => b.video.streams >= joined - 1) !== false;
      if (ok) {
        allReceiving = true;
        break;
      }
      await sleep(1000);
    }
    const secondsToAllReceiving = (performance.now() - readyStart) / 1000;
    await sleep(options.warmupSeconds * 1000);

    const workerPids = lectern.workerPids;
    const serverPids = new Set([lectern.pid, ...descendants(lectern.pid)]);
    const chromiumPids = () => descendants(process.pid).filter((p) => !serverPids.has(p));

    // Process CPU is read back to back around the window; mediasoup and page stats take time to
    // collect (seconds for 12 pages on a saturated machine), so they use their own timestamps.
    const s0 = await Promise.all(pages.map(sample));
    await bots?.reset();
    const p0 = await lectern.media();
    const tp0 = performance.now();
    const w0 = cpuOf(workerPids);
    const c0 = cpuOf(chromiumPids());
    const m0 = machineTicks();
    const b0 = process.cpuUsage();
    const r0 = udpRcvbufErrors();
    const d0 = udpDropsOfProcesses(workerPids);
    const n0 = cpuOf([lectern.pid]);
    const t0 = performance.now();
    await sleep(windowSeconds * 1000);
    const w1 = cpuOf(workerPids);
    const c1 = cpuOf(chromiumPids());
    const m1 = machineTicks();
    const b1 = process.cpuUsage(b0);
    const r1 = udpRcvbufErrors();
    const d1 = udpDropsOfProcesses(workerPids);
    const n1 = cpuOf([lectern.pid]);
    const t1 = performance.now();
    const p1 = await lectern.media();
    const tp1 = performance.now();
    const s1 = await Promise.all(pages.map(sample));
    const botCounts = (await bots?.counts()) ?? [];
    const botTotals = sumBotCounts(botCounts);
    const botErrors = botCounts.flatMap((b) => b.errors);
    const seconds = (t1 - t0) / 1000;
    const packetSeconds = (tp1 - tp0) / 1000;

    const fps: number[] = [];
    const heights: number[] = [];
    const audioRates: number[] = [];
    const loss = { video: { recv: 0, lost: 0 }, audio: { recv: 0, lost: 0 } };
    let remoteTiles = 0;
    let tilesWithVideo = 0;
    const layers: number[] = [];
    const sentHeights = new Map<number, number>();
    const qualityLimitation: Record<string, number> = {};
    pages.forEach((_, i) => {
      const before = new Map(s0[i]!.inbound.map((x) => [x.key, x]));
      for (const x of s1[i]!.inbound) {
        const b = before.get(x.key);
        const dt = b ? (x.timestamp - b.timestamp) / 1000 : seconds;
        const kind = x.kind === 'video' ? 'video' : 'audio';
        const recv = (x.packetsReceived ?? 0) - (b?.packetsReceived ?? 0);
        const lost = Math.max(0, (x.packetsLost ?? 0) - (b?.packetsLost ?? 0));
        loss[kind].recv += recv;
        loss[kind].lost += lost;
        if (kind === 'video') {
          remoteTiles++;
          const frames = (x.framesDecoded ?? 0) - (b?.framesDecoded ?? 0);
          if (frames > 0) tilesWithVideo++;
          fps.push(frames / dt);
          heights.push(x.frameHeight ?? 0);
        } else audioRates.push(recv / dt);
      }
      const obefore = new Map(s0[i]!.outbound.map((x) => [x.key, x]));
      let active = 0;
      for (const x of s1[i]!.outbound) {
        const frames = (x.framesEncoded ?? 0) - (obefore.get(x.key)?.framesEncoded ?? 0);
        if (frames > 0) {
          active++;
          sentHeights.set(x.frameHeight ?? 0, (sentHeights.get(x.frameHeight ?? 0) ?? 0) + 1);
        }
        const reason = x.qualityLimitationReason ?? 'unknown';
        qualityLimitation[reason] = (qualityLimitation[reason] ?? 0) + 1;
      }
      layers.push(active);
    });
    const totalTicks = m1.total - m0.total;
    return {
      participants: n,
      joined,
      browsers: pages.length,
      bots: botsJoined,
      botVideoStreams: `${botTotals.video.streams}/${botsJoined * (joined - 1)}`,
      botVideoLoss: botTotals.video.lost / Math.max(1, botTotals.video.received + botTotals.video.lost),
      botAudioLoss: botTotals.audio.lost / Math.max(1, botTotals.audio.received + botTotals.audio.lost),
      botDetails: botCounts,
      rcvbufErrors: r1 - r0,
      sfuSocketDrops: d1 - d0,
      camera: `${camera.width}x${camera.height}@${camera.fps}`,
      windowSeconds: Number(seconds.toFixed(2)),
      allReceiving,
      secondsToAllReceiving: Number(secondsToAllReceiving.toFixed(1)),
      remoteTiles,
      tilesWithVideo,
      fpsMedian: quantile(fps, 0.5),
      fpsP10: quantile(fps, 0.1),
      fpsMin: quantile(fps, 0),
      frameHeightMedian: quantile(heights, 0.5),
      videoLoss: loss.video.lost / Math.max(1, loss.video.recv + loss.video.lost),
      audioLoss: loss.audio.lost / Math.max(1, loss.audio.recv + loss.audio.lost),
      audioPacketsPerSecondMedian: quantile(audioRates, 0.5),
      layersSentMedian: quantile(layers, 0.5),
      sentHeights: [...sentHeights].sort((a, b) => a[0] - b[0]).map(([h, c]) => `${h}p×${c}`).join(' '),
      qualityLimitation,
      sfuCpuPercentPerWorker: workerPids.map((pid) => (((w1.get(pid) ?? 0) - (w0.get(pid) ?? 0)) / 1e6 / seconds) * 100),
      sfuForwardedPerSecond: Math.round((p1.sent - p0.sent) / packetSeconds),
      sfuReceivedPerSecond: Math.round((p1.received - p0.received) / packetSeconds),
      chromiumCpuPercent: (cpuDelta(c0, c1) / seconds) * 100,
      benchProcessCpuPercent: ((b1.user + b1.system) / 1e6 / seconds) * 100,
      serverCpuPercent: (cpuDelta(n0, n1) / seconds) * 100,
      machineBusyPercent: totalTicks > 0 ? ((m1.busy - m0.busy) / totalTicks) * 100 * os.cpus().length : Number.NaN,
      loadAverage: os.loadavg()[0]!,
      note:
        `${pages.length}/${browsers} Chromium pages and ${botsJoined}/${n - browsers} bots (on ${BOT_THREADS} threads) joined; ` +
        `${allReceiving ? 'all' : 'NOT all'} remote videos decoding (pages) and arriving (bots) after ${secondsToAllReceiving.toFixed(0)} s; ` +
        (botsRetried.length ? `${botsRetried.length} bots joined at their second try; ` : '') +
        (botErrors.length ? `bot errors: ${botErrors.slice(0, 3).join('; ')}; ` : '') +
        `camera ${camera.width}x${camera.height} requested by wrapping getUserMedia (the client asks 960x540)`,
    };
  } finally {
    await bots?.close();
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await lectern.close();
  }
}
