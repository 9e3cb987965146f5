// Node metrics that need a fault or the admission code: a SIGKILLed media worker is counted as a
// restart once replaced, and a refusal counted by the admission code shows under its reason. Real
// mediasoup worker, real Fastify; the registry's text is read by the Prometheus client's parser.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { Sfu } from '../../sfu/index.js';
import { build, type Lectern } from '../../server/app.js';
import { MetricsServer } from '../../server/metrics/MetricsServer.js';
import { countAdmissionRefusal } from '../../server/metrics/admissionRefusals.js';
import { parsePrometheusText, type Family } from '../helpers/prometheusText.js';

let sfu: Sfu;
let lectern: Lectern;
let server: MetricsServer;

beforeAll(async () => {
  const config = parseConfig({ log: { level: 'silent' }, audit: { dir: mkdtempSync(join(tmpdir(), 'lectern-audit-')) }, metrics: { port: 0 } });
  sfu = await Sfu.create({ workers: 1, listenIp: '127.0.0.1', rtcPort: 0, logLevel: 'warn', ioUring: false, maxIncomingBitrate: 3_000_000, initialAvailableOutgoingBitrate: 1_000_000 });
  lectern = await build({ config, sfu });
  server = await MetricsServer.start(lectern.metrics.registry, config.metrics!.host, config.metrics!.port);
});

afterAll(async () => {
  await server?.close();
  await lectern?.app.close();
  sfu?.close();
});

async function scrape(): Promise<Family[]> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}
const sample = (families: Family[], name: string, labels: Record<string, string> = {}) =>
  families.find((f) => f.name === name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('node metrics', () => {
  it('listens on loopback by default, apart from the public server', () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
  });

  it('counts a media worker replaced after SIGKILL', async () => {
    expect(sample(await scrape(), 'lectern_media_worker_restarts')).toBe(0);
    const replaced = new Promise<void>((resolve) => sfu.once('workerRespawned', () => resolve()));
    process.kill(sfu.pool.workers[0]!.worker.pid, 'SIGKILL');
    await replaced;
    const after = await scrape();
    expect(sample(after, 'lectern_media_worker_restarts')).toBe(1);
    expect(sample(after, 'lectern_media_workers')).toBe(1);
  });

  it('shows admission refusals by reason, as the admission code counts them', async () => {
    countAdmissionRefusal('node_full');
    countAdmissionRefusal('node_full');
    countAdmissionRefusal('cluster_full');
    const families = await scrape();
    expect(sample(families, 'lectern_admission_refusals', { reason: 'node_full' })).toBe(2);
    expect(sample(families, 'lectern_admission_refusals', { reason: 'cluster_full' })).toBe(1);
  });

  it('answers nothing but GET /metrics', async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
