// Signed checkpoints: where a verified prefix of the log ends, so the server can start in constant
// time. Opening used to re-verify every entry (13 s at 100k entries); with a checkpoint it verifies
// only the entries written after it and checks that the checkpoint's entry still ends exactly at
// its offset. What this does not prove: that nobody rewrote an entry before the checkpoint in
// place, keeping every byte offset. That is what `lectern verify-log` (the whole chain, every
// signature, and the published heads) is for; the server's start-up only refuses to build on a log
// whose end it cannot vouch for.
import { sign, verify, type KeyObject } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from './canonical.js';
import { parseRecord } from './records.js';
import { AUDIT_FILES, type AuditHead } from './types.js';

/** A verified prefix of the log: entries up to `seq` (ending with `hash`) occupy bytes [0, offset). */
export interface Checkpoint extends AuditHead {
  offset: number;
}

// Longest entry line looked for behind the offset; a longer one just means a full verification.
const LAST_LINE_WINDOW = 256 * 1024;

function payload(c: Checkpoint): Buffer {
  return Buffer.from(canonicalJson({ kind: 'lectern-audit-checkpoint', seq: c.seq, hash: c.hash, offset: c.offset }), 'utf8');
}

/** Write the checkpoint durably (temporary file, fsync, rename). */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint, privateKey: KeyObject): Promise<void> {
  const sig = sign(null, payload(checkpoint), privateKey).toString('base64');
  const path = join(dir, AUDIT_FILES.checkpoint);
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ ...checkpoint, sig })}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/** A checkpoint whose signature is valid, and whether the log still ends its prefix where it says. */
export interface ReadCheckpoint {
  checkpoint: Checkpoint;
  /** The checkpoint's entry ends exactly at its offset. False means entries were removed or rewritten. */
  matches: boolean;
}

/** The checkpoint of `dir`, or null when there is none or its signature is not valid. */
export async function readCheckpoint(dir: string, log: string, publicKey: KeyObject): Promise<ReadCheckpoint | null> {
  let text: string;
  try {
    const handle = await open(join(dir, AUDIT_FILES.checkpoint), 'r');
    try {
      text = (await handle.readFile()).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.seq) || !Number.isSafeInteger(v.offset) || typeof v.hash !== 'string' || typeof v.sig !== 'string') return null;
  const checkpoint: Checkpoint = { seq: v.seq as number, hash: v.hash, offset: v.offset as number };
  if (checkpoint.offset <= 0) return null;
  let valid = false;
  try {
    valid = verify(null, payload(checkpoint), publicKey, Buffer.from(v.sig, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) return null;
  return { checkpoint, matches: await endsAt(log, checkpoint).catch(() => false) };
}

/** Whether the line that ends at `offset` in the log is the checkpoint's entry. */
async function endsAt(log: string, checkpoint: Checkpoint): Promise<boolean> {
  const handle = await open(log, 'r');
  try {
    if ((await handle.stat()).size < checkpoint.offset) return false;
    const start = Math.max(0, checkpoint.offset - LAST_LINE_WINDOW);
    const window = Buffer.alloc(checkpoint.offset - start);
    await handle.read(window, 0, window.length, start);
    if (window[window.length - 1] !== 0x0a) return false;
    const previous = window.lastIndexOf(0x0a, window.length - 2);
    if (previous === -1 && start !== 0) return false;
    const parsed = parseRecord(window.subarray(previous + 1, window.length - 1).toString('utf8'));
    return !('error' in parsed) && parsed.record.seq === checkpoint.seq && parsed.record.hash === checkpoint.hash;
  } finally {
    await handle.close();
  }
}
