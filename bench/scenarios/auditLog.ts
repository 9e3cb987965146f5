// What the durable audit log costs (issue 12): the latency an acknowledgement now waits for (an
// append is acknowledged after its fdatasync; concurrent appends share one), a join's round trip
// through a real server with that wait, and start-up time as the history grows — constant with the
// signed checkpoint, against the full verification that start-up used to run (and verify-log runs).
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { AUDIT_FILES, AuditLog } from '../../audit/log/index.js';
import { startLecternProcess } from '../lib/lecternProcess.js';
import { quantile } from '../lib/stats.js';

/** What the audit-log scenario measured. */
export interface AuditLogResult {
  /** One append at a time: each waits for its own fdatasync. */
  sequentialAppend: { p50Ms: number; p99Ms: number };
  /** 50 appends at once (a join storm): group commit. */
  burstOf50: { totalMs: number; perEntryMs: number };
  /** A join's round trip through a real server, one at a time (each now waits for its audit entry). */
  joinRoundTrip: { joins: number; p50Ms: number; p99Ms: number };
  /** Opening a log of N entries: from the checkpoint, and (where measured) with full verification. */
  startup: Array<{ entries: number; fromCheckpointMs: number; fullVerificationMs: number | null; fileMiB: number }>;
  note: string;
}

const entry = (i: number) => ({ actor: { kind: 'user' as const, id: `student-${i % 5000}@uni.example` }, action: 'peer.joined' as const, subject: `room:lecture-${i % 40}`, details: { admitted: true, actorRole: 'student' } });

async function fill(dir: string, entries: number): Promise<void> {
  const log = await AuditLog.open(dir);
  for (let done = 1; done < entries; ) {
    const n = Math.min(10_000, entries - done);
    await Promise.all(Array.from({ length: n }, (_, k) => log.append(entry(done + k))));
    done += n;
  }
  await log.close();
}

async function timeOpen(dir: string): Promise<number> {
  const start = performance.now();
  const log = await AuditLog.open(dir);
  const ms = performance.now() - start;
  await log.close();
  return ms;
}

/** Run with logs of these sizes; full verification is timed only up to `fullUpTo` entries. */
export async function measureAuditLog(sizes = [1_000, 100_000, 1_000_000], fullUpTo = 100_000, joins = 200): Promise<AuditLogResult> {
  const dirs: string[] = [];
  const fresh = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-bench-audit-'));
    dirs.push(dir);
    return dir;
  };
  try {
    const log = await AuditLog.open(await fresh());
    const sequential: number[] = [];
    for (let i = 0; i < 300; i++) {
      const start = performance.now();
      await log.append(entry(i));
      sequential.push(performance.now() - start);
    }
    const burstStart = performance.now();
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i))));
    const burstMs = performance.now() - burstStart;
    await log.close();

    const server = await startLecternProcess('signalling');
    const trips: number[] = [];
    try {
      for (let i = 0; i < joins; i++) {
        const ws = await new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(server.wsUrl, { perMessageDeflate: false });
          socket.once('open', () => resolve(socket));
          socket.once('error', reject);
        });
        const start = performance.now();
        await new Promise<void>((resolve) => {
          ws.once('message', () => resolve());
          ws.send(JSON.stringify({ kind: 'request', id: 1, method: 'join', data: { room: 'audit-bench', displayName: `Student ${i}` } }));
        });
        trips.push(performance.now() - start);
        ws.terminate();
      }
    } finally {
      await server.close();
    }

    const startup: AuditLogResult['startup'] = [];
    for (const entries of sizes) {
      const dir = await fresh();
      await fill(dir, entries);
      const { size } = await import('node:fs').then((fs) => fs.statSync(join(dir, AUDIT_FILES.log)));
      const fromCheckpointMs = Math.min(await timeOpen(dir), await timeOpen(dir));
      let fullVerificationMs: number | null = null;
      if (entries <= fullUpTo) {
        await unlink(join(dir, AUDIT_FILES.checkpoint));
        fullVerificationMs = await timeOpen(dir);
      }
      startup.push({ entries, fromCheckpointMs, fullVerificationMs, fileMiB: size / 1048576 });
      await rm(dir, { recursive: true, force: true });
    }
    const result: AuditLogResult = {
      sequentialAppend: { p50Ms: quantile(sequential, 0.5), p99Ms: quantile(sequential, 0.99) },
      burstOf50: { totalMs: burstMs, perEntryMs: burstMs / 50 },
      joinRoundTrip: { joins: trips.length, p50Ms: quantile(trips, 0.5), p99Ms: quantile(trips, 0.99) },
      startup,
      note: '',
    };
    const big = startup[startup.length - 1];
    result.note =
      `durable append p50 ${result.sequentialAppend.p50Ms.toFixed(2)} ms (a join waits this long for its entry); 50 at once ${burstMs.toFixed(1)} ms in all; ` +
      `join round trip p50 ${result.joinRoundTrip.p50Ms.toFixed(2)} ms; start-up at ${big?.entries} entries ${big?.fromCheckpointMs.toFixed(0)} ms from the checkpoint`;
    return result;
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}
