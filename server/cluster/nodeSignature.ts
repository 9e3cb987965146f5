// How one node proves to another that a request comes from the cluster: an HMAC-SHA256 with the
// cluster secret over the method path, the sender's node id, a timestamp and the exact body bytes.
// Checked in constant time; a request older or newer than the window is refused (a captured
// request cannot be replayed later). The rule lives here once, for the signer and the verifier.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/index.js';

/** Headers a signed request carries. */
export const NODE_HEADER = 'x-lectern-node';
export const TIME_HEADER = 'x-lectern-time';
export const SIGNATURE_HEADER = 'x-lectern-signature';

/** How far a request's timestamp may be from the receiver's clock. */
const WINDOW_MS = 30_000;
const MIN_SECRET = 32;

/** The signature of one request. */
export function sign(secret: string, path: string, nodeId: string, time: number, body: string): string {
  return createHmac('sha256', secret).update(`${path}\n${nodeId}\n${time}\n${body}`).digest('base64url');
}

/** Why a request is not from the cluster (naming the header), or undefined when it is. */
export function signatureProblem(secret: string, path: string, headers: Record<string, string | string[] | undefined>, body: string, now = Date.now()): string | undefined {
  const node = headers[NODE_HEADER];
  const time = headers[TIME_HEADER];
  const signature = headers[SIGNATURE_HEADER];
  if (typeof node !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(node)) return `${NODE_HEADER}: required, a node id`;
  if (typeof time !== 'string' || !/^\d{1,16}$/.test(time)) return `${TIME_HEADER}: required, milliseconds since the epoch`;
  if (Math.abs(now - Number(time)) > WINDOW_MS) return `${TIME_HEADER}: outside the ${WINDOW_MS / 1000} s window`;
  if (typeof signature !== 'string') return `${SIGNATURE_HEADER}: required`;
  const expected = Buffer.from(sign(secret, path, node, Number(time), body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return `${SIGNATURE_HEADER}: does not match (wrong cluster secret, or the request was altered)`;
  return undefined;
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
