// A node whose client bundle is missing (not built, or a broken deploy) answers its pages with a
// clear 404 and goes on serving: before, GET / threw inside Fastify's send path and the process died.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { build } from '../../server/app.js';
import { sfuOptions } from '../../server/sfuOptions.js';
import { parseConfig } from '../../config/index.js';
import { Sfu } from '../../sfu/index.js';

let sfu: Sfu;
let app: Awaited<ReturnType<typeof build>>['app'];
let url: string;
beforeAll(async () => {
  const config = parseConfig({ log: { level: 'silent' }, audit: { dir: mkdtempSync(join(tmpdir(), 'lectern-audit-')) } });
  sfu = await Sfu.create({ ...sfuOptions(config), workers: 1, listenIp: '127.0.0.1', rtcPort: 0, logLevel: 'warn' });
  ({ app } = await build({ config, sfu, clientDir: mkdtempSync(join(tmpdir(), 'lectern-no-client-')) }));
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  sfu.close();
});

it('answers 404 for every page when the client is not built, and keeps serving', async () => {
  for (const path of ['/', '/r/physics-101', '/play/01234567-89ab-4cde-8f01-23456789abcd', '/assets/app.js']) {
    const response = await fetch(url + path);
    expect(response.status, path).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code, path).toBe('not_found');
  }
  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);
});
