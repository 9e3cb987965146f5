// A room bigger than its home node as a person meets it: real Chromium pages with fake cameras, two
// real node processes and redis-server on loopback. The home node's share is small: the third
// participant's browser receives on the edge node (its receive transport there, set up through the
// home's signalling: the page does nothing different) and decodes the teacher's camera through the
// SRTP pipe; what she sends goes to the home node, and the teacher decodes it.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startRedis, freePort, type TestRedis } from '../helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../helpers/clusterNode.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';

const ADMIN_TOKEN = 'edge-browser-admin-token-long-enough-to-be-real';
let redis: TestRedis;
let home: ClusterNodeProcess;
let edge: ClusterNodeProcess;
let browser: Browser;
const pageErrors = new PageErrors();

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run through scripts/in-netns.sh').toEqual([]);
  redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'lectern-edge-browser-'));
  const secretFile = join(dir, 'cluster-secret');
  writeFileSync(secretFile, `${'k'.repeat(48)}\n`);
  const auth = { adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] };
  const node = async (nodeId: string, address: string, zone: string, media: Record<string, unknown>) =>
    startNode({
      nodeId,
      address,
      redisPort: redis.port,
      placement: { country: 'DE', region: 'eu-central-1', zone },
      media: { ...media, pipe: { portMin: 42000, portMax: 42999 } },
      config: { auth },
      cluster: { internal: { host: address, port: await freePort(address), secretFile } },
    });
  // Home share: 3 consumers. One student receiving the teacher's camera and microphone leaves no room for a second.
  [home, edge] = await Promise.all([
    node('node-a', '127.0.0.2', 'eu-central-1a', { capacity: { consumersPerWorker: 3, reservedForInstructors: 0, loadSampleMs: 60_000 } }),
    node('node-b', '127.0.0.3', 'eu-central-1b', {}),
  ]);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([home, edge].filter(Boolean).map((n) => n.kill('SIGKILL')));
  await redis?.kill();
});

async function open(url: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  const page = pageErrors.watch(await context.newPage(), name);
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
  return page;
}

async function framesDecoded(page: Page, name: string): Promise<number> {
  return page.locator(`.tile[aria-label="${name}"]`).evaluate((el: HTMLElement) => Number(el.dataset.framesDecoded ?? 0)).catch(() => 0);
}

async function untilDecoding(pairs: [Page, string][], timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let seen: number[] = [];
  while (Date.now() < deadline) {
    seen = await Promise.all(pairs.map(([page, name]) => framesDecoded(page, name)));
    if (seen.every((n) => n > 10)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return seen;
}

describe('a class bigger than its home node, in Chromium', () => {
  it('lets a student past the home share decode the teacher through the edge node, and the teacher decode her', async () => {
    const teacher = await open(`${home.url}/r/big-lecture`, 'Teacher');
    const first = await open(`${home.url}/r/big-lecture`, 'First');
    expect(await untilDecoding([[first, 'Teacher']])).toEqual([expect.any(Number)]);
    const raw = redis.client();
    try {
      expect(await raw.smembers('lectern:room:big-lecture:forwarders')).toEqual([]);
      const late = await open(`${home.url}/r/big-lecture`, 'Late');
      // Her receiving is on node-b: the room's forwarder.
      expect(await raw.smembers('lectern:room:big-lecture:forwarders')).toEqual(['node-b']);
      const seen = await untilDecoding([
        [late, 'Teacher'],
        [late, 'First'],
        [teacher, 'Late'],
      ]);
      expect(seen.every((n) => n > 10), `frames decoded: ${seen.join(', ')}`).toBe(true);
      const view = (await (await fetch(`${home.url}/admin/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as {
        pipes: { to: string; srtp: { home: boolean; edge: boolean }; rtx: { home: boolean; edge: boolean }; tracks: number }[];
      };
      expect(view.pipes.map((p) => [p.to, p.srtp, p.rtx])).toEqual([['node-b', { home: true, edge: true }, { home: true, edge: true }]]);
      // Teacher's and First's camera and microphone went through it.
      expect(view.pipes[0]!.tracks).toBe(4);
      pageErrors.expectNone();
    } finally {
      raw.disconnect();
    }
  }, 90_000);
});
