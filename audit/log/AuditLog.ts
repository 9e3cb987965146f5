// The server's tamper-evident audit trail: an append-only JSON-lines file, each entry hash-chained
// to the one before and signed with an Ed25519 key generated at first start.
//
// Durability policy: an append() resolves only after the fdatasync that covers its line. Appends
// that arrive while a sync is running are written together with one write() and share the next
// sync (group commit), so a burst of 500 joins costs a handful of syncs, not 500. The directory is
// fsynced when a file is created. A crash can therefore leave at most one torn line at the end;
// every earlier line was synced before the next write began. On open, a torn tail is cut off, its
// bytes are kept (hash + first 1 KiB) in a `log.recovered` entry, and the chain continues from the
// last valid entry. Any other damage (edited, removed, reordered entries) makes open() throw:
// the server must not write on top of a log it cannot vouch for.
//
// Start-up time does not grow with the history: every 1,000 entries (and on close) a signed
// checkpoint records where the verified prefix ends, and open() verifies only what follows it
// (checkpoint.ts says what that does and does not prove; `lectern verify-log` checks everything).
// `head()` is the last entry on disk, never one still being written, so a published head is
// never reused by a different entry after a crash.
//
// What a signature does and does not prove: nobody without the private key can alter or insert
// entries unnoticed. Removing the newest entries leaves a valid shorter chain, so the head
// (`head()`) should be published elsewhere (the admin runtime endpoint, each audit report), and
// the public key kept by the verifier, not only beside the log.
import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { hashBody, keyFingerprint, signHash } from './crypto.js';
import { canonicalJson, type JsonValue } from './canonical.js';
import { splitLines } from './records.js';
import { verifyLogBytes, type LogProblem } from './verifyLog.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { AUDIT_ACTIONS, AUDIT_FILES, GENESIS_HASH, type AuditEntryInput, type AuditHead, type AuditRecord } from './types.js';

/** Why the audit log could not be opened or written; `code` is stable for callers to branch on. */
export class AuditLogError extends Error {
  /** AUDIT_LOG_INVALID | AUDIT_LOG_LOCKED | AUDIT_LOG_CLOSED | AUDIT_LOG_WRITE_FAILED | AUDIT_LOG_BAD_ENTRY */
  readonly code: string;
  /** For AUDIT_LOG_INVALID: what verification found. */
  readonly problems: LogProblem[];
  constructor(code: string, message: string, problems: LogProblem[] = []) {
    super(message);
    this.name = 'AuditLogError';
    this.code = code;
    this.problems = problems;
  }
}

/** Options for AuditLog.open. */
export interface AuditLogOptions {
  /** Source of entry times; defaults to the system clock. */
  now?: () => Date;
}

interface Pending {
  line: string;
  record: AuditRecord;
  resolve: (record: AuditRecord) => void;
  reject: (err: Error) => void;
}

const TORN_BYTES_KEPT = 1024;
const LISTED_ACTIONS: ReadonlySet<string> = new Set(AUDIT_ACTIONS);
// Start-up verifies at most this many entries past the last checkpoint (~0.15 ms each).
const CHECKPOINT_EVERY = 1000;

/** What open() found on disk. */
interface OpenState {
  head: AuditHead;
  /** Bytes of a torn last line that were cut off (empty: only a newline was missing), or null. */
  torn: Buffer | null;
  size: number;
  checkpointSeq: number;
}

/**
 * Verify the log for writing on: from the checkpoint when there is a valid one (only the entries
 * after it are read), else all of it. A torn tail is cut off; any other damage throws.
 */
async function verifyForOpen(dir: string, path: string, publicKey: KeyObject): Promise<OpenState> {
  const found = await readCheckpoint(dir, path, publicKey);
  // A signed checkpoint the log no longer matches means entries were removed or rewritten: verify
  // everything against it as an expected head, which names the damage and refuses to open.
  const checkpoint = found?.matches ? found.checkpoint : undefined;
  const from = checkpoint?.offset ?? 0;
  const tail = (await readFrom(path, from)) ?? (found ? Buffer.alloc(0) : null);
  if (tail === null) return { head: { seq: -1, hash: GENESIS_HASH }, torn: null, size: 0, checkpointSeq: -1 };
  const report = verifyLogBytes(tail, publicKey, checkpoint ? { after: checkpoint } : found ? { expectedHead: found.checkpoint } : {});
  const serious = report.problems.filter((p) => p.kind !== 'truncated-tail');
  if (serious.length > 0) {
    throw new AuditLogError('AUDIT_LOG_INVALID', `audit log ${path} fails verification; move it aside (and keep it as evidence) before starting:\n  - ${serious.map((p) => p.message).join('\n  - ')}`, serious);
  }
  const head: AuditHead = report.head ?? (checkpoint ? { seq: checkpoint.seq, hash: checkpoint.hash } : { seq: -1, hash: GENESIS_HASH });
  let size = from + tail.length;
  let torn: Buffer | null = null;
  const lines = splitLines(tail);
  const last = lines[lines.length - 1];
  const tornTail = report.problems.find((p) => p.kind === 'truncated-tail');
  if (last && tornTail) {
    // Either a torn line (cut it off, keep its bytes in the recovery entry) or a complete entry that
    // lost only its newline (keep it, add the newline). Truncating is one metadata change: a crash
    // during recovery leaves the old file or the new one, and the next start recovers again.
    const intact = tornTail.seq !== undefined;
    const handle = await open(path, 'r+');
    try {
      if (intact) {
        await handle.write('\n', size);
        size += 1;
        torn = Buffer.alloc(0);
      } else {
        torn = Buffer.from(tail.subarray(last.start));
        size = from + last.start;
        await handle.truncate(size);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return { head, torn, size, checkpointSeq: checkpoint?.seq ?? -1 };
}

/** The log's bytes from `offset` on, or null when there is no log file. */
async function readFrom(path: string, offset: number): Promise<Buffer | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.alloc(Math.max(0, size - offset));
    if (bytes.length > 0) await handle.read(bytes, 0, bytes.length, offset);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Append-only, hash-chained, signed audit log in one directory. */
export class AuditLog {
  readonly #dir: string;
  readonly #file: FileHandle;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #pseudonymKey: Buffer;
  readonly #now: () => Date;
  /** The last entry sealed: the chain continues from it (it may still be on its way to the disk). */
  #head: AuditHead;
  /** The last entry known to be on disk: the only head ever published. */
  #durableHead: AuditHead;
  /** Bytes of the log file on disk, for checkpoints. */
  #size: number;
  /** Sequence number of the last checkpoint written (-1: none). */
  #checkpointSeq: number;
  #queue: Pending[] = [];
  #flushing: Promise<void> | null = null;
  #failure: Error | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(dir: string, file: FileHandle, keys: Keys, head: AuditHead, size: number, checkpointSeq: number, now: () => Date) {
    this.#dir = dir;
    this.#file = file;
    this.#privateKey = keys.privateKey;
    this.#publicKey = keys.publicKey;
    this.#pseudonymKey = keys.pseudonymKey;
    this.#head = head;
    this.#durableHead = head;
    this.#size = size;
    this.#checkpointSeq = checkpointSeq;
    this.#now = now;
  }

  /**
   * Open (or create) the audit log in `dir`: generates keys on first start, recovers a torn tail,
   * refuses a tampered log. Only one process may hold a directory at a time.
   */
  static async open(dir: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const now = options.now ?? (() => new Date());
    // A first start creates the directory; only the server's user may read keys and entries.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await acquireLock(dir);
    try {
      const keys = await loadOrCreateKeys(dir);
      const path = join(dir, AUDIT_FILES.log);
      const opened = await verifyForOpen(dir, path, keys.publicKey);
      const { head, torn } = opened;
      const created = opened.size === 0;
      const file = await open(path, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT, 0o600);
      if (created) await syncDirectory(dir);
      const log = new AuditLog(dir, file, keys, head, opened.size, opened.checkpointSeq, now);
      if (created) {
        await log.append({ actor: { kind: 'system', name: 'audit' }, action: 'log.created', subject: AUDIT_FILES.log, details: { keyFingerprint: keyFingerprint(keys.publicKey), algorithm: 'Ed25519', hash: 'SHA-256 over RFC 8785 canonical JSON' } });
      } else if (torn) {
        const details: Record<string, JsonValue> = {
          afterSeq: head.seq,
          tornBytes: torn.length,
          tornSha256: createHash('sha256').update(torn).digest('hex'),
          tornStartBase64: torn.subarray(0, TORN_BYTES_KEPT).toString('base64'),
        };
        await log.append({ actor: { kind: 'system', name: 'audit' }, action: 'log.recovered', subject: AUDIT_FILES.log, details });
      }
      return log;
    } catch (err) {
      await releaseLock(dir);
      throw err;
    }
  }

  /**
   * The last entry on disk (seq -1 before the first). Entries still being written are not part of
   * it: a head published before its entry is durable would, after a crash, name a sequence number
   * that a different entry then takes, and an auditor holding it would see tampering.
   */
  head(): AuditHead {
    return { ...this.#durableHead };
  }

  /** Resolves once every entry appended so far is on disk (rejects if writing failed). */
  async durable(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#failure) throw new AuditLogError('AUDIT_LOG_WRITE_FAILED', `the audit log stopped after a failed write: ${this.#failure.message}`);
  }

  /** The Ed25519 public key (SPKI PEM) a verifier needs; also saved as audit-signing-key.pub.pem. */
  get publicKeyPem(): string {
    return this.#publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** The pseudonym under which `userId` appears in this log (for a data-subject request). */
  pseudonym(userId: string): string {
    return createHmac('sha256', this.#pseudonymKey).update(userId, 'utf8').digest('base64url').slice(0, 22);
  }

  /** Append an entry; resolves with the written record once it is on disk (see the fsync policy above). */
  append(entry: AuditEntryInput): Promise<AuditRecord> {
    if (this.#closed) return Promise.reject(new AuditLogError('AUDIT_LOG_CLOSED', 'the audit log is closed'));
    if (this.#failure) return Promise.reject(new AuditLogError('AUDIT_LOG_WRITE_FAILED', `the audit log stopped after a failed write: ${this.#failure.message}`));
    let record: AuditRecord;
    let line: string;
    try {
      record = this.#seal(entry);
      line = `${JSON.stringify(record)}\n`;
    } catch (err) {
      return Promise.reject(new AuditLogError('AUDIT_LOG_BAD_ENTRY', `cannot record this entry: ${(err as Error).message}`));
    }
    this.#head = { seq: record.seq, hash: record.hash };
    return new Promise<AuditRecord>((resolve, reject) => {
      this.#queue.push({ line, record, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Flush pending entries and close the file; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      while (this.#flushing) await this.#flushing;
      if (!this.#failure && this.#durableHead.seq > this.#checkpointSeq) await this.#checkpoint().catch(() => undefined);
      await this.#file.close();
      await releaseLock(this.#dir);
    })();
    return this.#closing;
  }

  async #checkpoint(): Promise<void> {
    const head = this.#durableHead;
    await writeCheckpoint(this.#dir, { ...head, offset: this.#size }, this.#privateKey);
    this.#checkpointSeq = head.seq;
  }

  #seal(entry: AuditEntryInput): AuditRecord {
    // The type already says so; this is for callers whose types do not reach here.
    if (!LISTED_ACTIONS.has(entry.action)) throw new Error(`action ${JSON.stringify(entry.action)} is not one of AUDIT_ACTIONS (audit/log/types.ts)`);
    const details = entry.details ?? {};
    canonicalJson(details); // throws on values JSON cannot carry, before the chain advances
    const body = {
      seq: this.#head.seq + 1,
      time: this.#now().toISOString(),
      actor: this.#actorName(entry.actor),
      action: entry.action,
      subject: entry.subject,
      details,
      prevHash: this.#head.hash,
    };
    const hash = hashBody(body);
    return { ...body, hash, sig: signHash(hash, this.#privateKey) };
  }

  #actorName(actor: AuditEntryInput['actor']): string {
    if (actor.kind === 'system') return `system:${actor.name}`;
    return actor.reveal ? `user:${actor.id}` : `user:p:${this.pseudonym(actor.id)}`;
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        const bytes = Buffer.from(batch.map((p) => p.line).join(''), 'utf8');
        await this.#file.write(bytes);
        await this.#file.datasync();
        this.#size += bytes.length;
        const last = batch[batch.length - 1] as Pending;
        this.#durableHead = { seq: last.record.seq, hash: last.record.hash };
        for (const p of batch) p.resolve(p.record);
        // After the batch is acknowledged: a checkpoint delays the next batch, never this one.
        if (this.#durableHead.seq - this.#checkpointSeq >= CHECKPOINT_EVERY) {
          await this.#checkpoint().catch(() => undefined); // a missing checkpoint costs only start-up time
        }
      } catch (err) {
        // The chain in memory is now ahead of the disk: stop accepting entries. A restart recovers.
        this.#failure = err as Error;
        const failure = new AuditLogError('AUDIT_LOG_WRITE_FAILED', `audit log write failed: ${(err as Error).message}`);
        for (const p of [...batch, ...this.#queue]) p.reject(failure);
        this.#queue = [];
      }
    }
    this.#flushing = null;
  }
}

interface Keys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  pseudonymKey: Buffer;
}

async function loadOrCreateKeys(dir: string): Promise<Keys> {
  const privatePath = join(dir, AUDIT_FILES.privateKey);
  const publicPath = join(dir, AUDIT_FILES.publicKey);
  const pseudonymPath = join(dir, AUDIT_FILES.pseudonymKey);
  let privatePem = await readIfExists(privatePath);
  if (!privatePem) {
    const pair = generateKeyPairSync('ed25519');
    privatePem = Buffer.from(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    await writeDurably(privatePath, privatePem, 0o600, 'wx');
  }
  await assertPrivate(privatePath);
  const privateKey = createPrivateKey(privatePem);
  const publicKey = createPublicKey(privateKey);
  // The public key is always rewritten from the private one, so a replaced .pub file cannot mislead.
  await writeDurably(publicPath, Buffer.from(publicKey.export({ type: 'spki', format: 'pem' }).toString()), 0o644);
  let pseudonymKey = await readIfExists(pseudonymPath);
  if (!pseudonymKey) {
    pseudonymKey = randomBytes(32);
    await writeDurably(pseudonymPath, pseudonymKey, 0o600, 'wx');
  }
  await assertPrivate(pseudonymPath);
  await syncDirectory(dir);
  return { privateKey, publicKey, pseudonymKey };
}

async function assertPrivate(path: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o077;
  if (mode !== 0) throw new AuditLogError('AUDIT_LOG_INVALID', `${path} is readable by group or others (mode ${((await stat(path)).mode & 0o777).toString(8)}); chmod 600 it`);
}

async function writeDurably(path: string, data: Buffer, mode = 0o600, flag: 'w' | 'wx' = 'w'): Promise<void> {
  const handle = await open(path, flag, mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

// One writer per directory: two would fork the chain. A lock left by a dead process is taken over.
async function acquireLock(dir: string): Promise<void> {
  const path = join(dir, AUDIT_FILES.lock);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt((await readIfExists(path))?.toString() ?? '', 10);
      if (Number.isSafeInteger(pid) && pid !== process.pid && processAlive(pid)) {
        throw new AuditLogError('AUDIT_LOG_LOCKED', `audit log in ${dir} is held by process ${pid}`);
      }
      if (pid === process.pid) throw new AuditLogError('AUDIT_LOG_LOCKED', `audit log in ${dir} is already open in this process`);
      await unlink(path).catch(() => undefined);
    }
  }
  throw new AuditLogError('AUDIT_LOG_LOCKED', `cannot take the lock ${path}`);
}

async function releaseLock(dir: string): Promise<void> {
  await unlink(join(dir, AUDIT_FILES.lock)).catch(() => undefined);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
