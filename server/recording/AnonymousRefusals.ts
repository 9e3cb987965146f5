// Recording requests refused for want of a (valid) credential: no sign-in, no room link, no
// playback link, or one that does not verify. An auditor must see these attempts (someone is
// trying recordings they cannot open), but one audit entry per request would let anyone grow the
// signed log as fast as they can send requests. So they are counted per address and per minute of
// the wall clock, and each address-minute becomes one `recording.playbackRefused` entry with
// `anonymous: true` and the count, appended once the minute is over (or at shutdown). Memory is
// bounded: at most MAX_ADDRESSES addresses per minute are told apart, the rest are counted together
// under one entry, and each entry lists at most MAX_RECORDINGS recording ids.
//
// The address is in the log as a keyed pseudonym (AuditLog.pseudonym), like a user: the log shows
// that one address tried 400 times, and whoever holds the pseudonym key can check a suspect one.
import type { FastifyBaseLogger } from 'fastify';
import type { AuditLog, AuditRecord } from '../../audit/log/index.js';

/** Counting window: a minute of the wall clock. */
export const REFUSAL_WINDOW_MS = 60_000;
/** Addresses told apart per minute; beyond, counted together (entries per minute stay bounded). */
export const MAX_ADDRESSES = 1000;
/** Recording ids listed per entry; beyond, only counted. */
const MAX_RECORDINGS = 16;

/** Why a request had no credential the routes could use. */
export type AnonymousReason = 'no-credential' | 'invalid-credential';

/** One refused request. */
export interface AnonymousRefusal {
  /** The client's address (Fastify's request.ip: the proxy's client address where trusted). */
  address: string;
  recordingId: string;
  /** What was asked for. */
  wanted: string;
  reason: AnonymousReason;
}

interface Bucket {
  count: number;
  recordings: Set<string>;
  recordingsOmitted: number;
  wanted: Set<string>;
  reasons: Set<AnonymousReason>;
}

/** Anonymous refusals, counted per address-minute and audited once per address-minute. */
export class AnonymousRefusals {
  readonly #audit: AuditLog;
  readonly #log: FastifyBaseLogger;
  /** Start (ms) of the minute being counted. */
  #window: number | undefined;
  #buckets = new Map<string, Bucket>();
  /** Refusals from addresses beyond MAX_ADDRESSES in the current minute. */
  #others: Bucket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<unknown> = Promise.resolve();

  constructor(audit: AuditLog, log: FastifyBaseLogger) {
    this.#audit = audit;
    this.#log = log;
  }

  /** Count one refusal; the minute before it is audited if it has not been yet. */
  note(refusal: AnonymousRefusal, now = Date.now()): void {
    const window = now - (now % REFUSAL_WINDOW_MS);
    if (this.#window !== undefined && this.#window !== window) void this.#flushWindow();
    if (this.#window === undefined) {
      this.#window = window;
      // Audit the minute soon after it ends even if no later refusal comes to do it.
      this.#timer = setTimeout(() => void this.flush(), window + REFUSAL_WINDOW_MS - now + 50);
      this.#timer.unref();
    }
    const key = this.#audit.pseudonym(`address:${refusal.address}`);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size < MAX_ADDRESSES) this.#buckets.set(key, (bucket = emptyBucket()));
      else bucket = this.#others ??= emptyBucket();
    }
    bucket.count++;
    // Refusals for recordings beyond the first MAX_RECORDINGS of the entry are only counted.
    if (bucket.recordings.size < MAX_RECORDINGS) bucket.recordings.add(refusal.recordingId);
    else if (!bucket.recordings.has(refusal.recordingId)) bucket.recordingsOmitted++;
    bucket.wanted.add(refusal.wanted);
    bucket.reasons.add(refusal.reason);
  }

  /** Audit the minute being counted if it has ended by `now`; resolves with the entries appended. */
  async flush(now = Date.now()): Promise<AuditRecord[]> {
    if (this.#window === undefined || now < this.#window + REFUSAL_WINDOW_MS) {
      await this.#flushing;
      return [];
    }
    return this.#flushWindow();
  }

  /** Audit whatever is counted, ended or not (shutdown). */
  async close(): Promise<void> {
    await this.#flushWindow();
  }

  #flushWindow(): Promise<AuditRecord[]> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const window = this.#window;
    const buckets = [...this.#buckets.entries()].map(([address, bucket]) => ({ address, bucket }));
    if (this.#others) buckets.push({ address: 'others', bucket: this.#others });
    this.#window = undefined;
    this.#buckets = new Map();
    this.#others = undefined;
    const appended = this.#flushing.then(async () => {
      if (window === undefined) return [];
      // Appended together: the log seals them in this order and writes them in one flush.
      const appends = buckets.map(({ address, bucket }) => {
        const recordings = [...bucket.recordings].sort();
        return this.#audit
          .append({
            actor: { kind: 'system', name: 'anonymous' },
            action: 'recording.playbackRefused',
            // Several recordings tried from one address are one entry; its details list them.
            subject: recordings.length === 1 && bucket.recordingsOmitted === 0 ? `recording:${recordings[0]}` : 'recording:*',
            details: {
              anonymous: true,
              address,
              count: bucket.count,
              from: new Date(window).toISOString(),
              to: new Date(window + REFUSAL_WINDOW_MS).toISOString(),
              recordings,
              ...(bucket.recordingsOmitted > 0 ? { recordingsOmitted: bucket.recordingsOmitted } : {}),
              wanted: [...bucket.wanted].sort(),
              reasons: [...bucket.reasons].sort(),
            },
          })
          .catch((error: unknown) => {
            this.#log.error({ err: error, count: bucket.count }, 'anonymous recording refusals could not be audited');
            return undefined;
          });
      });
      return (await Promise.all(appends)).filter((r): r is AuditRecord => r !== undefined);
    });
    this.#flushing = appended;
    return appended;
  }
}

function emptyBucket(): Bucket {
  return { count: 0, recordings: new Set(), recordingsOmitted: 0, wanted: new Set(), reasons: new Set() };
}
