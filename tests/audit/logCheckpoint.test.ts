// The audit log's published head is only ever an entry on disk (issue 12, defect 6), and opening a
// long log costs the same as opening a short one: it verifies from a signed checkpoint (defect 7).
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_FILES, AuditLog, verifyLog, type AuditRecord } from '../../audit/log/index.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-audit-cp-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const entry = (i: number) => ({ actor: { kind: 'user' as const, id: `user-${i}` }, action: 'peer.joined' as const, subject: 'room-a', details: { i } });

describe('the published head', () => {
  it('never names an entry that is not on disk yet', async () => {
    const dir = await freshDir();
    const log = await AuditLog.open(dir);
    const before = log.head();
    const writes = Array.from({ length: 20 }, (_, i) => log.append(entry(i)));
    // Sealed, chained and queued, but not yet written: the head must not have moved.
    expect(log.head()).toEqual(before);
    const written = await Promise.all(writes);
    const last = written[written.length - 1] as AuditRecord;
    expect(log.head()).toEqual({ seq: last.seq, hash: last.hash });
    await log.durable();
    await log.close();
  });
});

describe('start-up from a checkpoint', () => {
  it('opens by verifying only what follows the checkpoint, and continues the chain', async () => {
    const dir = await freshDir();
    let log = await AuditLog.open(dir);
    await Promise.all(Array.from({ length: 2500 }, (_, i) => log.append(entry(i))));
    await log.close();
    const checkpoint = JSON.parse(await readFile(join(dir, AUDIT_FILES.checkpoint), 'utf8')) as { seq: number; offset: number };
    expect(checkpoint.seq).toBe(2500); // written on close
    // An entry before the checkpoint, rewritten in place with the same length, is not re-read at
    // start-up (that is what verify-log is for) — proof that start-up did not read it.
    const file = join(dir, AUDIT_FILES.log);
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"i":7}', '"i":8}'));
    log = await AuditLog.open(dir);
    const next = await log.append(entry(9999));
    expect(next.seq).toBe(2501);
    await log.close();
    const report = await verifyLog(file, log.publicKeyPem);
    expect(report.problems.map((p) => p.kind)).toEqual(['edited']);
  });

  it('refuses a log cut back before its checkpoint (entries removed from the end)', async () => {
    const dir = await freshDir();
    const log = await AuditLog.open(dir);
    for (let i = 0; i < 5; i++) await log.append(entry(i));
    await log.close();
    const file = join(dir, AUDIT_FILES.log);
    const kept = (await readFile(file, 'utf8')).split('\n').slice(0, 3).join('\n') + '\n';
    await writeFile(file, kept);
    await expect(AuditLog.open(dir)).rejects.toMatchObject({ code: 'AUDIT_LOG_INVALID', problems: expect.arrayContaining([expect.objectContaining({ kind: 'removed', seq: 5 })]) });
  });

  it('refuses a log whose entries after the checkpoint were tampered with', async () => {
    const dir = await freshDir();
    let log = await AuditLog.open(dir);
    await log.append(entry(0));
    await log.close();
    log = await AuditLog.open(dir);
    await log.append(entry(1));
    await log.append(entry(2));
    // Simulate a crash: the checkpoint stays at seq 1, the two entries after it are on disk.
    await writeFile(join(dir, AUDIT_FILES.lock), '999999\n');
    const file = join(dir, AUDIT_FILES.log);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    lines.splice(2, 1); // remove the entry right after the checkpoint
    await writeFile(file, lines.join('\n') + '\n');
    await expect(AuditLog.open(dir)).rejects.toMatchObject({ code: 'AUDIT_LOG_INVALID', problems: [expect.objectContaining({ kind: 'removed', seq: 2 })] });
    await log.close().catch(() => undefined);
  });

  it('recovers a torn tail after the checkpoint', async () => {
    const dir = await freshDir();
    let log = await AuditLog.open(dir);
    await log.append(entry(0));
    await log.close();
    await appendFile(join(dir, AUDIT_FILES.log), '{"seq":2,"time":"2026-');
    log = await AuditLog.open(dir);
    expect(log.head().seq).toBe(2); // 0 created, 1 joined, 2 log.recovered
    await log.close();
    expect((await verifyLog(join(dir, AUDIT_FILES.log), log.publicKeyPem)).ok).toBe(true);
  });
});
