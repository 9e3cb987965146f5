// Start a real Lectern for a test: real mediasoup workers, real Fastify listening on 127.0.0.1.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../server/auth/index.js';
import type { AuditLog } from '../../audit/log/index.js';
import { parseConfig, type LecternConfig } from '../../config/index.js';
import { Sfu } from '../../sfu/index.js';
import { build } from '../../server/app.js';
import { sfuOptions } from '../../server/sfuOptions.js';
import type { RecordingService } from '../../server/recording/RecordingService.js';

/** A running test server. */
export interface TestLectern {
  app: FastifyInstance;
  sfu: Sfu;
  authenticator: Authenticator;
  auditLog: AuditLog;
  recordings: RecordingService;
  config: LecternConfig;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port>/ws */
  wsUrl: string;
  close(): Promise<void>;
}

/** Start Lectern with a config (defaults + overrides), media on OS-chosen ports. */
export async function startLectern(overrides: Record<string, unknown> = {}, options: { workers?: number } = {}): Promise<TestLectern> {
  const auditDir = mkdtempSync(join(tmpdir(), 'lectern-audit-'));
  // Recordings of a test go to a directory of its own, never into the working tree.
  const recording = { dir: mkdtempSync(join(tmpdir(), 'lectern-recordings-')), ...(overrides.recording as object | undefined) };
  const config = parseConfig({ log: { level: 'silent' }, audit: { dir: auditDir }, ...overrides, recording });
  // The server's own mapping from config; loopback, any port, and as many workers as the test asks.
  const sfu = await Sfu.create({ ...sfuOptions(config), workers: options.workers ?? 1, listenIp: '127.0.0.1', announcedAddress: undefined, rtcPort: 0, logLevel: 'warn' });
  const { app, authenticator, auditLog, recordings } = await build({ config, sfu });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const workerExits = sfu.pool.workers.map((w) => new Promise<void>((resolve) => w.worker.observer.once('close', () => resolve())));
  return {
    app,
    sfu,
    authenticator,
    auditLog,
    recordings,
    config,
    url: address,
    wsUrl: address.replace(/^http/, 'ws') + '/ws',
    async close() {
      await app.close();
      sfu.close();
      await Promise.all(workerExits);
    },
  };
}
