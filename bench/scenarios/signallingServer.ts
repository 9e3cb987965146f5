// A real Lectern server for the signalling scenario, in its own process so its memory is measured
// apart from the bench's clients. Started with an IPC channel: prints nothing, answers
// { op: 'memory' } (after a full GC) and { op: 'close' }.
import { build } from '../../server/app.js';
import { parseConfig } from '../../config/index.js';
import { Sfu } from '../../sfu/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const send = (message: unknown): void => {
  process.send?.(message);
};

const auditDir = mkdtempSync(join(tmpdir(), 'lectern-bench-audit-'));
const config = parseConfig({
  http: { host: '127.0.0.1', port: 0 },
  media: { workers: 1, listenIp: '127.0.0.1', rtcPort: 40000 },
  rooms: { maxPeersPerRoom: 5000 },
  log: { level: 'silent' },
  // A throw-away audit log: the bench must not write into the project's .lectern/.
  audit: { dir: auditDir },
});
const sfu = await Sfu.create({ ...config.media, rtcPort: 0, logLevel: 'warn' });
const { app } = await build({ config, sfu });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;

function memory(): { rss: number; heapUsed: number; external: number; arrayBuffers: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

process.on('message', (message: { op: string }) => {
  if (message.op === 'memory') send({ op: 'memory', ...memory() });
  if (message.op === 'close') {
    void app.close().then(() => {
      sfu.close();
      rmSync(auditDir, { recursive: true, force: true });
      send({ op: 'closed' });
      process.exit(0);
    });
  }
});
send({ op: 'ready', port, workerPid: sfu.pool.workers[0]?.worker.pid ?? 0 });
