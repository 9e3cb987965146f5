// How one node proves to another that a request comes from the cluster: an HMAC-SHA256 with the
// cluster secret over the method path, the sender's node id, the receiving node's id, a timestamp,
// a random nonce and the exact body bytes. Checked in constant time; a request older or newer than
// the window is refused, and inside the window the receiver refuses a nonce it has seen
// (NonceLedger: a captured request cannot be replayed, to this node or, since the receiver is
// signed, to another). The rule lives here once, for the signer and the verifier.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/index.js';

/** Headers a signed request carries. */
export const NODE_HEADER = 'x-lectern-node';
export const TO_HEADER = 'x-lectern-to';
export const TIME_HEADER = 'x-lectern-time';
export const NONCE_HEADER = 'x-lectern-nonce';
export const SIGNATURE_HEADER = 'x-lectern-signature';

/** How far a request's timestamp may be from the receiver's clock. */
export const SIGNATURE_WINDOW_MS = 30_000;
const MIN_SECRET = 32;
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** 128 random bits, base64url (what `newNonce` makes; longer ones are accepted, up to 64). */
const NONCE = /^[A-Za-z0-9_-]{22,64}$/;

/** What one signed request names: who sends it, to whom, when, and its nonce. */
export interface SignedFields {
  path: string;
  from: string;
  to: string;
  time: number;
  nonce: string;
}

/** A fresh nonce for one request. */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The signature of one request. */
export function sign(secret: string, fields: SignedFields, body: string): string {
  const { path, from, to, time, nonce } = fields;
  return createHmac('sha256', secret).update(`${path}\n${from}\n${to}\n${time}\n${nonce}\n${body}`).digest('base64url');
}

/** The headers of a signed request (the caller adds content-type). */
export function signedHeaders(secret: string, fields: SignedFields, body: string): Record<string, string> {
  return { [NODE_HEADER]: fields.from, [TO_HEADER]: fields.to, [TIME_HEADER]: String(fields.time), [NONCE_HEADER]: fields.nonce, [SIGNATURE_HEADER]: sign(secret, fields, body) };
}

/** A verified request's fields, or why it is not from the cluster for this node (naming the header). */
export type Verified = { ok: true; fields: SignedFields } | { ok: false; problem: string };

/**
 * Check a request received by node `self` at `path`. Only the signature, the receiver and the
 * window: whether its nonce is new is the receiver's ledger's question, asked after this passes.
 */
export function verifySignature(secret: string, self: string, path: string, headers: Record<string, string | string[] | undefined>, body: string, now = Date.now()): Verified {
  const from = headers[NODE_HEADER];
  const to = headers[TO_HEADER];
  const time = headers[TIME_HEADER];
  const nonce = headers[NONCE_HEADER];
  const signature = headers[SIGNATURE_HEADER];
  const refuse = (problem: string): Verified => ({ ok: false, problem });
  if (typeof from !== 'string' || !NODE_ID.test(from)) return refuse(`${NODE_HEADER}: required, a node id`);
  if (typeof to !== 'string' || !NODE_ID.test(to)) return refuse(`${TO_HEADER}: required, the receiving node's id`);
  if (typeof time !== 'string' || !/^\d{1,16}$/.test(time)) return refuse(`${TIME_HEADER}: required, milliseconds since the epoch`);
  if (Math.abs(now - Number(time)) > SIGNATURE_WINDOW_MS) return refuse(`${TIME_HEADER}: outside the ${SIGNATURE_WINDOW_MS / 1000} s window`);
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) return refuse(`${NONCE_HEADER}: required, 22 to 64 base64url characters`);
  if (typeof signature !== 'string') return refuse(`${SIGNATURE_HEADER}: required`);
  const fields: SignedFields = { path, from, to, time: Number(time), nonce };
  const expected = Buffer.from(sign(secret, fields, body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse(`${SIGNATURE_HEADER}: does not match (wrong cluster secret, or the request was altered)`);
  // After the signature: only a genuine request learns which node it was meant for.
  if (to !== self) return refuse(`${TO_HEADER}: this request was signed for node ${to}, not this node (${self})`);
  return { ok: true, fields };
}

/** Read the cluster secret (first line of the file); fails start-up naming the key. */
export function readClusterSecret(file: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').split('\n')[0]?.trim() ?? '';
  } catch (error) {
    throw new ConfigError('cluster', [`cluster.internal.secretFile: cannot read ${file}: ${(error as Error).message}`]);
  }
  if (secret.length < MIN_SECRET) throw new ConfigError('cluster', [`cluster.internal.secretFile: the secret in ${file} must be at least ${MIN_SECRET} characters`]);
  return secret;
}
