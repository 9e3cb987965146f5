// Independent verification of an audit log: needs only the file and the public key. Says which
// entry was edited, removed, reordered or duplicated, and whether the tail was torn by a crash.
import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { hashBody, keyFingerprint, signatureValid, toPublicKey } from './crypto.js';
import { parseRecord, splitLines } from './records.js';
import { GENESIS_HASH, type AuditHead, type AuditRecord } from './types.js';

/** Kinds of damage verifyLog can name. */
export type LogProblemKind =
  | 'edited' // content no longer matches its hash, or the hash is not signed by the key
  | 'removed' // a sequence number is missing (or the tail is shorter than an expected head)
  | 'reordered' // an authentic entry appears after one with a higher sequence number
  | 'duplicated' // the same sequence number appears twice
  | 'chain-broken' // two authentic neighbours whose prevHash does not link (spliced-in entries)
  | 'malformed' // a complete line in the middle that is not an entry at all
  | 'truncated-tail'; // the last line is unfinished: a crash mid-write; earlier entries are unaffected

/** One thing wrong with the log, located by line and (where known) sequence number. */
export interface LogProblem {
  kind: LogProblemKind;
  /** 1-based line in the file; absent for removals, which have no line. */
  line?: number;
  /** Sequence number concerned (claimed by the entry, or missing). */
  seq?: number;
  message: string;
}

/** What verifyLog found. */
export interface LogVerification {
  /** True when there is no problem at all (a truncated tail is a problem, if a harmless one). */
  ok: boolean;
  /** Entries whose hash and signature are valid. */
  authenticEntries: number;
  /** Complete lines read. */
  lines: number;
  /** The last authentic entry in sequence order: compare with a head recorded elsewhere. */
  head: AuditHead | null;
  /** First 16 hex of SHA-256 of the public key used. */
  keyFingerprint: string;
  problems: LogProblem[];
}

/** Options for verifyLog. */
export interface VerifyOptions {
  /** A head recorded elsewhere earlier (e.g. a previous audit); detects removal of trailing entries. */
  expectedHead?: AuditHead;
  /**
   * The bytes are the rest of a log whose entries up to this head were verified already (the
   * server's start-up from a checkpoint): the first entry must follow it.
   */
  after?: AuditHead;
}

/** Verify the log at `file` against `publicKey` (KeyObject or PEM); never throws on bad content. */
export async function verifyLog(file: string, publicKey: KeyObject | string | Buffer, options: VerifyOptions = {}): Promise<LogVerification> {
  return verifyLogBytes(await readFile(file), publicKey, options);
}

/** Verify log bytes already in memory; see verifyLog. */
export function verifyLogBytes(bytes: Buffer, publicKey: KeyObject | string | Buffer, options: VerifyOptions = {}): LogVerification {
  const key = toPublicKey(publicKey);
  const problems: LogProblem[] = [];
  const lines = splitLines(bytes);
  const authentic: Array<{ record: AuditRecord; line: number }> = [];

  lines.forEach((raw, index) => {
    const isLast = index === lines.length - 1;
    const parsed = parseRecord(raw.text);
    if ('error' in parsed) {
      if (isLast && (!raw.terminated || raw.text.length === 0)) {
        problems.push({ kind: 'truncated-tail', line: raw.line, message: `line ${raw.line} is an unfinished write (${raw.text.length} bytes, ${parsed.error}); every entry before it is unaffected` });
      } else {
        problems.push({ kind: 'malformed', line: raw.line, message: `line ${raw.line} is not an audit entry: ${parsed.error}` });
      }
      return;
    }
    const { record } = parsed;
    if (hashBody(record) !== record.hash) {
      problems.push({ kind: 'edited', line: raw.line, seq: record.seq, message: `entry seq ${record.seq} (line ${raw.line}) was edited: its content no longer matches its hash` });
      return;
    }
    if (!signatureValid(record, key)) {
      problems.push({ kind: 'edited', line: raw.line, seq: record.seq, message: `entry seq ${record.seq} (line ${raw.line}) was edited or forged: its hash is not signed by key ${keyFingerprint(key)}` });
      return;
    }
    if (isLast && !raw.terminated) {
      // A complete, signed entry whose newline was lost is still authentic; note the torn newline.
      problems.push({ kind: 'truncated-tail', line: raw.line, seq: record.seq, message: `line ${raw.line} lacks its final newline (crash mid-write); the entry itself is intact` });
    }
    authentic.push({ record, line: raw.line });
  });

  // Edited entries still claim a seq: count them as present so one edit is not also reported as a removal.
  const claimed = new Set<number>(problems.filter((p) => p.kind === 'edited' && p.seq !== undefined).map((p) => p.seq as number));
  const bySeq = new Map<number, { record: AuditRecord; line: number }>();
  let highestSoFar = -1;
  for (const entry of authentic) {
    const { seq } = entry.record;
    const earlier = bySeq.get(seq);
    if (earlier) {
      problems.push({ kind: 'duplicated', line: entry.line, seq, message: `entry seq ${seq} appears again at line ${entry.line} (first at line ${earlier.line})` });
      continue;
    }
    bySeq.set(seq, entry);
    if (seq < highestSoFar) {
      problems.push({ kind: 'reordered', line: entry.line, seq, message: `entry seq ${seq} is out of order: it sits at line ${entry.line}, after entry seq ${highestSoFar}` });
    }
    highestSoFar = Math.max(highestSoFar, seq);
  }

  const after = options.after;
  if (after) {
    for (const [seq, entry] of bySeq) {
      if (seq <= after.seq) problems.push({ kind: 'duplicated', line: entry.line, seq, message: `entry seq ${seq} at line ${entry.line} repeats an entry already before the checkpoint (seq ${after.seq})` });
    }
  }
  const first = after ? after.seq + 1 : 0;
  const seqs = [...bySeq.keys(), ...claimed].sort((a, b) => a - b);
  const top = seqs.length > 0 ? (seqs[seqs.length - 1] as number) : -1;
  for (let seq = first; seq <= top; seq += 1) {
    if (!bySeq.has(seq) && !claimed.has(seq)) {
      problems.push({ kind: 'removed', seq, message: `entry seq ${seq} was removed (sequence jumps over it)` });
    }
  }
  for (const [seq, entry] of bySeq) {
    if (after && seq <= after.seq) continue;
    const expectedPrev = seq === 0 ? GENESIS_HASH : after && seq === after.seq + 1 ? after.hash : bySeq.get(seq - 1)?.record.hash;
    if (expectedPrev !== undefined && entry.record.prevHash !== expectedPrev) {
      problems.push({ kind: 'chain-broken', line: entry.line, seq, message: `entry seq ${seq} (line ${entry.line}) does not follow entry seq ${seq - 1}: prevHash differs (entries spliced from another chain?)` });
    }
  }

  // highestSoFar, not Math.max(...keys): a spread of a million keys overflows the stack.
  const headEntry = authentic.length > 0 ? bySeq.get(highestSoFar) : undefined;
  const head = headEntry ? { seq: headEntry.record.seq, hash: headEntry.record.hash } : null;
  const expected = options.expectedHead;
  if (expected) {
    const atExpected = bySeq.get(expected.seq);
    if (!atExpected && (head === null || head.seq < expected.seq)) {
      for (let seq = (head?.seq ?? -1) + 1; seq <= expected.seq; seq += 1) {
        problems.push({ kind: 'removed', seq, message: `entry seq ${seq} was removed from the end (the recorded head is seq ${expected.seq})` });
      }
    } else if (atExpected && atExpected.record.hash !== expected.hash) {
      problems.push({ kind: 'chain-broken', line: atExpected.line, seq: expected.seq, message: `entry seq ${expected.seq} differs from the recorded head: the log was rewritten after that head was taken` });
    }
  }

  problems.sort((a, b) => (a.line ?? lineOfSeq(a.seq, bySeq)) - (b.line ?? lineOfSeq(b.seq, bySeq)));
  return {
    ok: problems.length === 0,
    authenticEntries: authentic.length,
    lines: lines.filter((l) => l.terminated).length,
    head,
    keyFingerprint: keyFingerprint(key),
    problems,
  };
}

function lineOfSeq(seq: number | undefined, bySeq: Map<number, { line: number }>): number {
  if (seq === undefined) return Number.MAX_SAFE_INTEGER;
  // A removed entry sorts just before the line of its successor.
  for (let next = seq + 1; next <= seq + 1000; next += 1) {
    const entry = bySeq.get(next);
    if (entry) return entry.line - 0.5;
  }
  return Number.MAX_SAFE_INTEGER;
}
