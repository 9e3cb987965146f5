import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_FILES, AuditLog, AuditLogError, verifyLog, type AuditRecord } from '../../audit/log/index.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-audit-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A log with `log.created` + `n` joins, closed. */
async function logWith(n: number): Promise<{ dir: string; file: string; publicKey: string }> {
  const dir = await freshDir();
  const log = await AuditLog.open(dir);
  for (let i = 0; i < n; i += 1) {
    await log.append({ actor: { kind: 'user', id: `user-${i}` }, action: 'peer.joined', subject: 'room-a', details: { i } });
  }
  await log.close();
  const publicKey = await readFile(join(dir, AUDIT_FILES.publicKey), 'utf8');
  return { dir, file: join(dir, AUDIT_FILES.log), publicKey };
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0);
}
async function writeLines(file: string, content: string[]): Promise<void> {
  await writeFile(file, content.map((l) => `${l}\n`).join(''));
}

describe('AuditLog', () => {
  it('creates keys (private ones 0600), starts the chain with log.created and verifies clean', async () => {
    const { dir, file, publicKey } = await logWith(3);
    expect((await stat(join(dir, AUDIT_FILES.privateKey))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, AUDIT_FILES.pseudonymKey))).mode & 0o777).toBe(0o600);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const records = (await lines(file)).map((l) => JSON.parse(l) as AuditRecord);
    expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(records[0]?.action).toBe('log.created');
    expect(records[1]?.prevHash).toBe(records[0]?.hash);
    const report = await verifyLog(file, publicKey);
    expect(report).toMatchObject({ ok: true, authenticEntries: 4, problems: [] });
    expect(report.head?.seq).toBe(3);
  });

  it('records users pseudonymously by default, by id only when asked', async () => {
    const dir = await freshDir();
    const log = await AuditLog.open(dir);
    const hidden = await log.append({ actor: { kind: 'user', id: 'alice@uni.example' }, action: 'peer.joined', subject: 'room-a' });
    const shown = await log.append({ actor: { kind: 'user', id: 'admin-7', reveal: true }, action: 'moderation.mutedAll', subject: 'room-a' });
    expect(hidden.actor).toBe(`user:p:${log.pseudonym('alice@uni.example')}`);
    expect(hidden.actor).not.toContain('alice');
    expect(shown.actor).toBe('user:admin-7');
    await log.close();
    expect(await readFile(join(dir, AUDIT_FILES.log), 'utf8')).not.toContain('alice');
  });

  it('serialises concurrent appends into one gapless chain and continues it after reopen', async () => {
    const dir = await freshDir();
    let log = await AuditLog.open(dir);
    const written = await Promise.all(
      Array.from({ length: 50 }, (_, i) => log.append({ actor: { kind: 'system', name: 'rooms' }, action: 'room.opened', subject: `room-${i}` })),
    );
    expect(written.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await log.close();
    await log.close(); // idempotent
    await expect(log.append({ actor: { kind: 'system', name: 'x' }, action: 'room.closed', subject: 'r' })).rejects.toMatchObject({ code: 'AUDIT_LOG_CLOSED' });
    log = await AuditLog.open(dir);
    expect(log.head().seq).toBe(50);
    const next = await log.append({ actor: { kind: 'system', name: 'rooms' }, action: 'room.closed', subject: 'room-0' });
    expect(next.seq).toBe(51);
    await log.close();
    expect((await verifyLog(join(dir, AUDIT_FILES.log), log.publicKeyPem)).ok).toBe(true);
  });

  it('refuses a second writer on the same directory and bad entries', async () => {
    const dir = await freshDir();
    const log = await AuditLog.open(dir);
    await expect(AuditLog.open(dir)).rejects.toMatchObject({ code: 'AUDIT_LOG_LOCKED' });
    await expect(log.append({ actor: { kind: 'system', name: 'x' }, action: 'no-dot' as 'peer.joined', subject: 's' })).rejects.toMatchObject({ code: 'AUDIT_LOG_BAD_ENTRY' });
    await expect(log.append({ actor: { kind: 'system', name: 'x' }, action: 'peer.joined', subject: 's', details: { n: Number.NaN } })).rejects.toMatchObject({ code: 'AUDIT_LOG_BAD_ENTRY' });
    expect(log.head().seq).toBe(0); // rejected entries did not advance the chain
    await log.close();
  });
});

describe('verifyLog names the damage', () => {
  it('an edited entry (content changed, hash left alone)', async () => {
    const { file, publicKey } = await logWith(4);
    const all = await lines(file);
    all[2] = all[2]!.replace('"i":1', '"i":99');
    await writeLines(file, all);
    const report = await verifyLog(file, publicKey);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'edited', seq: 2, line: 3 })]);
  });

  it('an edited entry whose hash was recomputed (signature no longer matches)', async () => {
    const { file, publicKey } = await logWith(4);
    const { hashBody } = await import('../../audit/log/crypto.js');
    const all = await lines(file);
    const record = JSON.parse(all[3]!) as AuditRecord;
    record.subject = 'room-b';
    record.hash = hashBody(record);
    all[3] = JSON.stringify(record);
    await writeLines(file, all);
    const report = await verifyLog(file, publicKey);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'edited', seq: 3 })]);
    expect(report.problems[0]?.message).toMatch(/not signed/);
  });

  it('a removed entry', async () => {
    const { file, publicKey } = await logWith(4);
    const all = await lines(file);
    all.splice(2, 1);
    await writeLines(file, all);
    const report = await verifyLog(file, publicKey);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'removed', seq: 2 })]);
  });

  it('reordered entries', async () => {
    const { file, publicKey } = await logWith(4);
    const all = await lines(file);
    [all[2], all[3]] = [all[3]!, all[2]!];
    await writeLines(file, all);
    const report = await verifyLog(file, publicKey);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'reordered', seq: 2, line: 4 })]);
  });

  it('a duplicated entry', async () => {
    const { file, publicKey } = await logWith(2);
    const all = await lines(file);
    all.push(all[1]!);
    await writeLines(file, all);
    expect((await verifyLog(file, publicKey)).problems).toEqual([expect.objectContaining({ kind: 'duplicated', seq: 1, line: 4 })]);
  });

  it('removal of the newest entries, given a head recorded earlier', async () => {
    const { file, publicKey } = await logWith(4);
    const before = await verifyLog(file, publicKey);
    const all = await lines(file);
    await writeLines(file, all.slice(0, 3));
    const quiet = await verifyLog(file, publicKey);
    expect(quiet.ok).toBe(true); // a shorter valid chain: only an external head reveals it
    const report = await verifyLog(file, publicKey, { expectedHead: before.head! });
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([
      ['removed', 3],
      ['removed', 4],
    ]);
  });

  it('a torn last line (crash mid-write) as a truncated tail; earlier entries stay valid', async () => {
    const { file, publicKey } = await logWith(3);
    const all = await lines(file);
    await writeFile(file, all.slice(0, 3).map((l) => `${l}\n`).join('') + all[3]!.slice(0, 40));
    const report = await verifyLog(file, publicKey);
    expect(report.authenticEntries).toBe(3);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'truncated-tail', line: 4 })]);
  });

  it('every entry, when checked with the wrong public key', async () => {
    const { file } = await logWith(1);
    const other = generateKeyPairSync('ed25519').publicKey;
    const report = await verifyLog(file, other);
    expect(report.authenticEntries).toBe(0);
    expect(report.problems.map((p) => p.kind)).toEqual(['edited', 'edited']);
  });
});

describe('recovery', () => {
  it('reopening after a torn write cuts the tail, records the recovery and continues the chain', async () => {
    const { dir, file, publicKey } = await logWith(2);
    await appendFile(file, '{"seq":3,"time":"2025-');
    const log = await AuditLog.open(dir);
    const after = await log.append({ actor: { kind: 'system', name: 'rooms' }, action: 'room.opened', subject: 'room-z' });
    await log.close();
    const records = (await lines(file)).map((l) => JSON.parse(l) as AuditRecord);
    expect(records.map((r) => r.action)).toEqual(['log.created', 'peer.joined', 'peer.joined', 'log.recovered', 'room.opened']);
    expect(records[3]?.details).toMatchObject({ afterSeq: 2, tornBytes: 22 });
    expect(after.seq).toBe(4);
    expect(await verifyLog(file, publicKey)).toMatchObject({ ok: true, authenticEntries: 5 });
  });

  it('a complete last entry that lost only its newline is kept', async () => {
    const { dir, file, publicKey } = await logWith(2);
    await writeFile(file, (await readFile(file, 'utf8')).trimEnd());
    expect((await verifyLog(file, publicKey)).problems.map((p) => p.kind)).toEqual(['truncated-tail']);
    const log = await AuditLog.open(dir);
    expect(log.head().seq).toBe(3); // 0..2 kept, 3 = log.recovered
    await log.close();
    expect((await verifyLog(file, publicKey)).ok).toBe(true);
  });

  it('refuses to write on top of a tampered log', async () => {
    const { dir, file } = await logWith(3);
    const all = await lines(file);
    all.splice(1, 1);
    await writeLines(file, all);
    const error = await AuditLog.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditLogError);
    expect(error).toMatchObject({ code: 'AUDIT_LOG_INVALID', problems: [expect.objectContaining({ kind: 'removed', seq: 1 })] });
    // and the lock was released; cutting the log back to its first entry is still a removal (the
    // signed checkpoint remembers seq 3), so only with the checkpoint moved aside too does it open
    await writeLines(file, (await lines(file)).slice(0, 1));
    await expect(AuditLog.open(dir)).rejects.toMatchObject({ code: 'AUDIT_LOG_INVALID', problems: [expect.objectContaining({ kind: 'removed' }), expect.anything(), expect.anything()] });
    await rm(join(dir, AUDIT_FILES.checkpoint));
    await (await AuditLog.open(dir)).close();
  });

  it('a writer killed with SIGKILL mid-burst leaves a log that verifies (at most a truncated tail)', async () => {
    const dir = await freshDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers/append-forever.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const publicKey = await readFile(join(dir, AUDIT_FILES.publicKey), 'utf8');
    const report = await verifyLog(join(dir, AUDIT_FILES.log), publicKey);
    expect(report.authenticEntries).toBeGreaterThan(8);
    expect(report.problems.filter((p) => p.kind !== 'truncated-tail')).toEqual([]);
    const log = await AuditLog.open(dir); // the stale lock of the dead writer is taken over
    await log.close();
    expect((await verifyLog(join(dir, AUDIT_FILES.log), publicKey)).ok).toBe(true);
  }, 20_000);
});

describe('first start', () => {
  it('creates a missing audit directory (private to the server user)', async () => {
    const { mkdtempSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { AuditLog } = await import('../../audit/log/index.js');
    const dir = join(mkdtempSync(join(tmpdir(), 'lectern-audit-first-')), 'nested', 'audit');
    const log = await AuditLog.open(dir);
    await log.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
