// Failover as a person meets it, timed: the flow of tests/cluster/failover.browser.test.ts,
// repeated. Three node processes (server/main.ts, one worker each) and redis-server on loopback;
// per repetition a fresh home node B, a teacher who opens the class on B, and two students in
// Chromium who reach it through node A (A sends their pages to B). B is SIGKILLed; with no click,
// each student's page waits out B's TTL + one heartbeat, goes back in its own history to A's page,
// joins again and decodes the other student on a live node. Timed from the kill, read from outside
// the pages (tests/helpers/failoverTimeline.ts): went back, loaded, join answered, first frame.
import os from 'node:os';
import type { Browser } from 'playwright-core';
import { startRedis, type TestRedis } from '../../tests/helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../../tests/helpers/clusterNode.js';
import { ClassPages, framesDecoded } from '../../tests/helpers/classPages.js';
import { FailoverTimeline, type FailoverSteps } from '../../tests/helpers/failoverTimeline.js';
import { ensureClientBuilt, launchBenchChromium } from '../lib/browserBench.js';
import { quantile } from '../lib/stats.js';

export interface FailoverOptions {
  repetitions: number;
  ttlSeconds: number;
  heartbeatSeconds: number;
}

export interface FailoverSample {
  repetition: number;
  /** Both students decode each other again: the later of their first frames, ms after the kill. */
  bothDecodingMs: number;
  /** Each student's steps, ms after the kill. */
  students: FailoverSteps[];
  newHome?: string;
  error?: string;
}

export type FailoverStep = 'wentBack' | 'loaded' | 'joinAnswered' | 'transportConnected' | 'firstFrame' | 'tenthFrame';

export interface FailoverResult {
  repetitions: number;
  completed: number;
  ttlSeconds: number;
  heartbeatSeconds: number;
  /** TTL + heartbeat: how long a page waits before it goes back (ClusterNode.failoverAfterSeconds). */
  boundMs: number;
  samples: FailoverSample[];
  bothDecoding: { p50: number; max: number };
  /** Per step, over every student of every completed repetition. */
  steps: Record<FailoverStep, { p50: number; max: number }>;
  loadAverage: number;
  note: string;
}

const STEPS: FailoverStep[] = ['wentBack', 'loaded', 'joinAnswered', 'transportConnected', 'firstFrame', 'tenthFrame'];
const TIMEOUT_MS = 40_000;

export async function measureFailover(options: FailoverOptions): Promise<FailoverResult> {
  ensureClientBuilt();
  const cluster = { ttlSeconds: options.ttlSeconds, heartbeatSeconds: options.heartbeatSeconds };
  let redis: TestRedis | undefined;
  const nodes: ClusterNodeProcess[] = [];
  let browser: Browser | undefined;
  const pages = new ClassPages();
  const samples: FailoverSample[] = [];
  try {
    redis = await startRedis();
    const port = redis.port;
    const [a, c] = await Promise.all([
      startNode({ nodeId: 'node-a', address: '127.0.0.2', redisPort: port, cluster }),
      startNode({ nodeId: 'node-c', address: '127.0.0.4', redisPort: port, cluster }),
    ]);
    nodes.push(a, c);
    browser = await launchBenchChromium();
    pages.use(browser);
    for (let repetition = 1; repetition <= options.repetitions; repetition++) {
      const b = await startNode({ nodeId: `node-b${repetition}`, address: '127.0.0.3', redisPort: port, cluster });
      nodes.push(b);
      try {
        samples.push(await once(repetition, pages, a, b));
      } catch (error) {
        samples.push({ repetition, bothDecodingMs: Number.NaN, students: [], error: (error as Error).message });
      } finally {
        await b.kill('SIGKILL');
        await pages.closeAll();
      }
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    await redis?.kill();
  }
  const done = samples.filter((s) => !s.error);
  const over = (values: number[]) => ({ p50: quantile(values, 0.5), max: values.length ? Math.max(...values) : Number.NaN });
  const students = done.flatMap((s) => s.students);
  const steps = Object.fromEntries(STEPS.map((step) => [step, over(students.map((s) => s[step] ?? Number.NaN))])) as FailoverResult['steps'];
  const boundMs = (options.ttlSeconds + options.heartbeatSeconds) * 1000;
  return {
    repetitions: options.repetitions,
    completed: done.length,
    ttlSeconds: options.ttlSeconds,
    heartbeatSeconds: options.heartbeatSeconds,
    boundMs,
    samples,
    bothDecoding: over(done.map((s) => s.bothDecodingMs)),
    steps,
    loadAverage: os.loadavg()[0] ?? 0,
    note:
      `home node SIGKILL -> both students decode each other again on a live node (first frame of each one's video element), ` +
      `${done.length}/${options.repetitions} repetitions; the pages wait ${boundMs} ms (TTL ${options.ttlSeconds} s + heartbeat ${options.heartbeatSeconds} s) before going back; ` +
      'real Chromium, 3 node processes, redis-server; target < 5 s',
  };
}

/** One repetition: the class on B, two students through A, B killed. */
async function once(repetition: number, pages: ClassPages, a: ClusterNodeProcess, b: ClusterNodeProcess): Promise<FailoverSample> {
  const room = `failover-${repetition}-${Date.now()}`;
  const teacher = await pages.open(`${b.url}/r/${room}`, 'Teacher');
  await teacher.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
  const ann = await pages.open(`${a.url}/r/${room}`, 'Ann');
  const ben = await pages.open(`${a.url}/r/${room}`, 'Ben');
  for (const page of [ann, ben]) {
    await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    if (new URL(page.url()).origin !== b.url) throw new Error(`a student did not reach the home node B (on ${page.url()})`);
  }
  // Both decode each other on B before the kill (the tile's stats, written once a second).
  const deadline = Date.now() + 30_000;
  while ((await framesDecoded(ann, 'Ben')) <= 10 || (await framesDecoded(ben, 'Ann')) <= 10) {
    if (Date.now() > deadline) throw new Error('the students did not decode each other on B before the kill');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const timelines = [new FailoverTimeline(ann, 'Ben', b.url), new FailoverTimeline(ben, 'Ann', b.url)];
  for (const timeline of timelines) timeline.start();
  await b.kill('SIGKILL');
  const students = await Promise.all(timelines.map((timeline) => timeline.decodingAgain(TIMEOUT_MS)));
  const homes = new Set([ann, ben].map((page) => new URL(page.url()).origin));
  if (homes.size !== 1) throw new Error(`the students ended on different nodes: ${[...homes].join(', ')}`);
  return { repetition, bothDecodingMs: Math.max(...students.map((s) => s.firstFrame ?? Number.NaN)), students, newHome: [...homes][0] };
}
