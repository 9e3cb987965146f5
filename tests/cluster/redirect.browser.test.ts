// The redirect as a person meets it: real Chromium with a fake camera, two real node processes and
// redis-server on loopback. Someone opens the class on the wrong node, types a name and clicks
// Join; the page goes to the home node by itself, joins there without another click, and sees the
// other participant's video. The page navigates only within its own origin (/moved/<room>); the
// wrong node redirects the browser to the home node it reads from the registry.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startRedis, type TestRedis } from '../helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../helpers/clusterNode.js';
import { launchChromium, nonLoopbackInterfaces } from '../helpers/chromium.js';
import { ClassPages, framesDecoded } from '../helpers/classPages.js';
import { parsePrometheusText } from '../helpers/prometheusText.js';

let redis: TestRedis;
let a: ClusterNodeProcess;
let b: ClusterNodeProcess;
let browser: Browser;
const pages = new ClassPages();
const pageErrors = pages.errors;

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run through scripts/in-netns.sh').toEqual([]);
  redis = await startRedis();
  [a, b] = await Promise.all([
    startNode({ nodeId: 'node-a', address: '127.0.0.2', redisPort: redis.port }),
    startNode({ nodeId: 'node-b', address: '127.0.0.3', redisPort: redis.port, placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1b' } }),
  ]);
  browser = await launchChromium();
  pages.use(browser);
}, 90_000);

afterEach(() => pages.closeAll());

afterAll(async () => {
  await browser?.close();
  await Promise.all([a, b].filter(Boolean).map((n) => n.kill('SIGKILL')));
  await redis?.kill();
});

describe('a participant who reaches the wrong node', () => {
  it('is sent to the home node by her browser and joins the class there, seeing the others', async () => {
    const teacher = await pages.open(`${a.url}/r/cluster-class`, 'Teacher');
    await teacher.locator('#call').waitFor({ state: 'visible' });
    const student = await pages.open(`${b.url}/r/cluster-class`, 'Student');
    // No second click: the page on the home node joins by itself.
    await student.locator('#call').waitFor({ state: 'visible', timeout: 20_000 });
    expect(new URL(student.url()).origin).toBe(a.url);
    // The hop is the server's: the wrong node answers /moved/<room> with a redirect to the home node.
    const hop = await fetch(`${b.url}/moved/cluster-class`, { redirect: 'manual' });
    expect([hop.status, hop.headers.get('location')]).toEqual([302, `${a.url}/r/cluster-class`]);
    const bad = await fetch(`${b.url}/moved/..%2Fetc`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
    const health = (await (await fetch(`${a.url}/healthz`)).json()) as { peers: number; rooms: number };
    expect(health).toMatchObject({ rooms: 1, peers: 2 });
    const wrong = (await (await fetch(`${b.url}/healthz`)).json()) as { peers: number; rooms: number };
    expect(wrong).toMatchObject({ rooms: 0, peers: 0 });
    // Media flows on the home node: each decodes the other's camera.
    const deadline = Date.now() + 20_000;
    let seen = [0, 0];
    while (Date.now() < deadline) {
      seen = [await framesDecoded(student, 'Teacher'), await framesDecoded(teacher, 'Student')];
      if (seen.every((n) => n > 10)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(seen[0]).toBeGreaterThan(10);
    expect(seen[1]).toBeGreaterThan(10);
    // The home node's metrics count what it forwards (mediasoup consumer stats), the other node's nothing.
    const value = (text: string, name: string) => parsePrometheusText(text).find((f) => f.name === name)!.samples[0]!.value;
    const home = await (await fetch(`${a.metricsUrl}/metrics`)).text();
    expect(value(home, 'lectern_consumers')).toBe(4);
    expect(value(home, 'lectern_forwarded_packets')).toBeGreaterThan(100);
    expect(value(home, 'lectern_forwarded_bytes')).toBeGreaterThan(value(home, 'lectern_forwarded_packets') * 12);
    const later = await (await fetch(`${a.metricsUrl}/metrics`)).text();
    expect(value(later, 'lectern_forwarded_packets')).toBeGreaterThanOrEqual(value(home, 'lectern_forwarded_packets'));
    const other = await (await fetch(`${b.metricsUrl}/metrics`)).text();
    expect(value(other, 'lectern_forwarded_packets')).toBe(0);
    for (const secret of ['cluster-class', 'Teacher', 'Student']) expect(home).not.toContain(secret);
    pageErrors.expectNone();
  }, 60_000);
});
