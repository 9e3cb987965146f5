// Join latency in Chromium: one publisher page (camera + microphone, the client's own 960x540
// simulcast) is already sending in a room; then, repeatedly, a fresh browser context opens the room
// link, types a name and clicks Join, and we time in the page (performance.now(), probe injected
// before the client loads) from the click to the 'join' reply and to the first decoded remote video
// frame (requestVideoFrameCallback on the remote tile's <video>, cross-checked by polling
// getVideoPlaybackQuality() every 10 ms). Each joiner leaves (context closed) before the next.
import os from 'node:os';
import type { Browser, BrowserContext } from 'playwright-core';
import { startBenchLectern, launchBenchChromium, openAndClickJoin, readProbe, waitForFirstFrame, type Probe } from '../lib/browserBench.js';
import { quantile } from '../lib/stats.js';

export interface JoinLatencyOptions {
  joins: number;
  /** Whether the joiners start their own camera and microphone too (the pre-join default). */
  joinerSends: boolean;
  timeoutSeconds: number;
}

export interface JoinSample {
  join: number;
  clickToJoinSentMs: number;
  clickToJoinedMs: number;
  clickToFirstFrameMs: number;
  clickToFirstFramePollMs: number;
  joinedToFirstFrameMs: number;
  clickToFirstPcConnectedMs: number;
  clickToRemoteTrackMs: number;
  firstFrameSize: string | null;
  /** What happened when, in ms after the click (see Probe.timeline). */
  timeline?: string[];
  error?: string;
}

export interface JoinLatencyResult {
  joins: number;
  completed: number;
  joinerSends: boolean;
  samples: JoinSample[];
  summary: Record<'clickToJoinSentMs' | 'clickToJoinedMs' | 'clickToFirstFrameMs' | 'clickToFirstFramePollMs' | 'joinedToFirstFrameMs' | 'clickToFirstPcConnectedMs' | 'clickToRemoteTrackMs', { p50: number; p95: number; min: number; max: number }>;
  loadAverage: number;
  note: string;
}

const since = (from: number | null, to: number | null): number => (from === null || to === null ? Number.NaN : to - from);

export async function measureJoinLatency(options: JoinLatencyOptions): Promise<JoinLatencyResult> {
  const lectern = await startBenchLectern();
  let browser: Browser | undefined;
  let publisher: BrowserContext | undefined;
  const room = `joinlatency-${Date.now()}`;
  const samples: JoinSample[] = [];
  try {
    browser = await launchBenchChromium();
    const pub = await openAndClickJoin(browser, lectern.url, room, 'Lecturer');
    publisher = pub.context;
    await pub.page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    // Sending for real before anyone joins: both producers exist and video flows into the SFU.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const { perProducer } = await lectern.media();
      if (perProducer.length >= 2 && perProducer.every((n) => n > 50)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    for (let i = 0; i < options.joins; i++) {
      let sample: JoinSample;
      let joiner: BrowserContext | undefined;
      try {
        const { context: c, page } = await openAndClickJoin(browser, lectern.url, room, `Student ${i + 1}`, {
          viewport: { width: 1024, height: 720 },
          sendMedia: options.joinerSends,
        });
        joiner = c;
        await waitForFirstFrame(page, options.timeoutSeconds * 1000);
        const probe: Probe = await readProbe(page);
        // rVFC's presentationTime is when the frame was handed to the compositor; its callback runs
        // at the next rendering step. Take the earlier one.
        const firstFrame = probe.firstFramePresented ?? probe.firstFrameRvfc;
        sample = {
          join: i + 1,
          clickToJoinSentMs: since(probe.click, probe.joinSent),
          clickToJoinedMs: since(probe.click, probe.joined),
          clickToFirstFrameMs: since(probe.click, firstFrame),
          clickToFirstFramePollMs: since(probe.click, probe.firstFramePoll),
          joinedToFirstFrameMs: since(probe.joined, firstFrame),
          clickToFirstPcConnectedMs: since(probe.click, probe.pcConnected),
          clickToRemoteTrackMs: since(probe.click, probe.firstTrack),
          firstFrameSize: probe.firstFrameSize,
          timeline: probe.timeline.map(([t, what]) => `${Math.round(t - (probe.click ?? 0))} ${what}`),
          ...(probe.firstFrameRvfc === null ? { error: `no remote frame within ${options.timeoutSeconds} s` } : {}),
        };
      } catch (error) {
        sample = {
          join: i + 1,
          clickToJoinSentMs: Number.NaN,
          clickToJoinedMs: Number.NaN,
          clickToFirstFrameMs: Number.NaN,
          clickToFirstFramePollMs: Number.NaN,
          joinedToFirstFrameMs: Number.NaN,
          clickToFirstPcConnectedMs: Number.NaN,
          clickToRemoteTrackMs: Number.NaN,
          firstFrameSize: null,
          error: (error as Error).message.split('\n')[0],
        };
      }
      samples.push(sample);
      await joiner?.close().catch(() => undefined);
      // Let the server see the leave before the next join (one joiner at a time in the room).
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await publisher?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await lectern.close();
  }
  const ok = samples.filter((s) => !s.error);
  const stat = (key: keyof JoinLatencyResult['summary']) => {
    const xs = ok.map((s) => s[key]);
    return { p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), min: quantile(xs, 0), max: quantile(xs, 1) };
  };
  return {
    joins: options.joins,
    completed: ok.length,
    joinerSends: options.joinerSends,
    samples,
    summary: {
      clickToJoinSentMs: stat('clickToJoinSentMs'),
      clickToJoinedMs: stat('clickToJoinedMs'),
      clickToFirstFrameMs: stat('clickToFirstFrameMs'),
      clickToFirstFramePollMs: stat('clickToFirstFramePollMs'),
      joinedToFirstFrameMs: stat('joinedToFirstFrameMs'),
      clickToFirstPcConnectedMs: stat('clickToFirstPcConnectedMs'),
      clickToRemoteTrackMs: stat('clickToRemoteTrackMs'),
    },
    loadAverage: os.loadavg()[0]!,
    note:
      `${ok.length}/${options.joins} joins decoded a remote frame; publisher = 1 Chromium page (960x540 simulcast + mic); ` +
      `joiners ${options.joinerSends ? 'start camera + mic too (pre-join defaults)' : 'do not send'}; timed in the page with performance.now()`,
  };
}
