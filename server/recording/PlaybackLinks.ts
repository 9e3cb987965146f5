// Signed, short-lived playback links: `<payload>.<signature>`, the payload naming one recording,
// an expiry and the audit pseudonym of whoever asked for the link (so each playback through it is
// attributed). The key is random per process: a restart ends every link, which is what short-lived means.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const LinkPayload = Type.Object(
  {
    /** Recording id. */
    r: Type.String({ minLength: 1, maxLength: 64 }),
    /** Expiry, ms since the epoch. */
    e: Type.Integer(),
    /** Audit pseudonym of the person the link was issued to. */
    p: Type.String({ minLength: 1, maxLength: 128 }),
    /** Present when the person it was issued to may export the recording: so may the link. */
    x: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);
type LinkPayload = Static<typeof LinkPayload>;

/** A verified link. */
export interface PlaybackGrant {
  recordingId: string;
  expiresAt: number;
  pseudonym: string;
  /** Whether the link may export (it was issued to someone who may). */
  export: boolean;
}

/** Issues and checks playback links. */
export class PlaybackLinks {
  readonly #key = randomBytes(32);
  readonly #ttlMs: number;

  constructor(ttlSeconds: number) {
    this.#ttlMs = ttlSeconds * 1000;
  }

  /** A link token for one recording; `mayExport` when the person asking may export it. */
  issue(recordingId: string, pseudonym: string, mayExport = false, now = Date.now()): { token: string; expiresAt: number } {
    const payload: LinkPayload = { r: recordingId, e: now + this.#ttlMs, p: pseudonym, ...(mayExport ? { x: true as const } : {}) };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { token: `${body}.${this.#sign(body)}`, expiresAt: payload.e };
  }

  /** The grant of a token for `recordingId`, or undefined when it is forged, expired or for another recording. */
  verify(token: string, recordingId: string, now = Date.now()): PlaybackGrant | undefined {
    const [body, signature, ...rest] = token.split('.');
    if (!body || !signature || rest.length > 0) return undefined;
    const expected = Buffer.from(this.#sign(body));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Value.Check(LinkPayload, payload) || payload.r !== recordingId || payload.e <= now) return undefined;
    return { recordingId: payload.r, expiresAt: payload.e, pseudonym: payload.p, export: payload.x === true };
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}
