// The playback page of a recording held by another node, as a person meets it: real Chromium with
// a fake camera, two real node processes and redis-server on loopback. An instructor records their
// camera on node A; the playback link opened through node B lands on A's origin (B redirects the
// page itself), where the page's own same-origin requests are answered and the video plays.
// Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseConfig } from '../../config/index.js';
import { Authenticator } from '../../server/auth/index.js';
import { startRedis, type TestRedis } from '../helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../helpers/clusterNode.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';

const SECRET = 'recording-holder-browser-secret-32-bytes!';
const ADMIN_TOKEN = 'recording-holder-browser-admin-7d2e';
const ROOM = 'held-on-a';
const SLOW = { timeout: 30_000 };
const RECORD_MS = 4000;

let redis: TestRedis;
let a: ClusterNodeProcess;
let b: ClusterNodeProcess;
let browser: Browser;
let issuer: Authenticator;
const contexts: BrowserContext[] = [];
const errors = new PageErrors();

function nodeConfig(name: string): Record<string, unknown> {
  return {
    auth: { tokenSecret: SECRET, adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] },
    recording: { dir: join(mkdtempSync(join(tmpdir(), `lectern-recb-${name}-`)), 'recordings') },
  };
}

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run through scripts/in-netns.sh').toEqual([]);
  redis = await startRedis();
  [a, b] = await Promise.all([
    startNode({ nodeId: 'node-a', address: '127.0.0.2', redisPort: redis.port, config: nodeConfig('a') }),
    startNode({ nodeId: 'node-b', address: '127.0.0.3', redisPort: redis.port, placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1b' }, config: nodeConfig('b') }),
  ]);
  issuer = await Authenticator.create(parseConfig({ auth: { tokenSecret: SECRET } }).auth, pino({ level: 'silent' }));
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await Promise.all([a, b].filter(Boolean).map((n) => n.kill('SIGKILL')));
  await redis?.kill();
});

async function open(url: string, label: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  contexts.push(context);
  const page = errors.watch(await context.newPage(), label);
  await page.goto(url);
  return page;
}

/** A's recordings, from its admin view. */
async function recordingsOnA(): Promise<{ id: string; room: string; active: boolean }[]> {
  const response = await fetch(`${a.url}/admin/runtime`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const body = (await response.json()) as { recordings?: { items: { id: string; room: string; active: boolean }[] } };
  return body.recordings?.items ?? [];
}

describe('the playback page of a recording held by another node', () => {
  it('opened through node B, runs on node A and plays the recorded camera', async () => {
    const token = await issuer.issueRoomToken({ room: ROOM, role: 'instructor', subject: 'teacher@uni' });
    const teacher = await open(`${a.url}/r/${ROOM}#token=${encodeURIComponent(token)}`, 'teacher');
    await teacher.getByLabel('Your name').fill('Teacher');
    await teacher.getByRole('button', { name: 'Join' }).click();
    await teacher.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
    await teacher.getByRole('button', { name: 'Start recording', exact: true }).click();
    await expect.poll(() => teacher.locator('#recording-banner').isVisible(), SLOW).toBe(true);
    await expect.poll(async () => (await recordingsOnA()).filter((r) => r.room === ROOM).length, SLOW).toBe(1);
    const id = (await recordingsOnA()).find((r) => r.room === ROOM)!.id;
    await new Promise((resolve) => setTimeout(resolve, RECORD_MS));
    await teacher.getByRole('button', { name: 'Stop recording', exact: true }).click();
    await expect.poll(async () => (await recordingsOnA()).find((r) => r.id === id)?.active, SLOW).toBe(false);

    // The link as it is shared: the one site name, here node B, which does not hold the recording.
    const player = await open(`${b.url}/play/${id}#token=${encodeURIComponent(token)}`, 'playback through B');
    await player.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    expect(new URL(player.url()).origin).toBe(a.url);
    const played = await player.evaluate(async () => {
      const video = document.getElementById('play-video') as HTMLVideoElement;
      video.muted = true;
      await video.play();
      const deadline = Date.now() + 20_000;
      while (video.currentTime < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      return { currentTime: video.currentTime, width: video.videoWidth, src: video.currentSrc };
    });
    expect(played.currentTime).toBeGreaterThanOrEqual(1);
    expect(played.width).toBeGreaterThan(0);
    expect(new URL(played.src).origin).toBe(a.url);
    errors.expectNone();
  }, 120_000);
});
