// Hashing and signing of audit entries; node:crypto only, so verifiers need nothing else.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AuditRecord, AuditRecordBody } from './types.js';

/** Hex SHA-256 of the canonical serialisation of the entry's body (everything but hash and sig). */
export function hashBody(body: AuditRecordBody): string {
  const { seq, time, actor, action, subject, details, prevHash } = body;
  return createHash('sha256')
    .update(canonicalJson({ seq, time, actor, action, subject, details, prevHash }), 'utf8')
    .digest('hex');
}

/** Base64 Ed25519 signature over the hash (which already commits to every field). */
export function signHash(hash: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(hash, 'utf8'), privateKey).toString('base64');
}

/** True when `record.sig` is a valid signature of `record.hash` under `publicKey`. */
export function signatureValid(record: Pick<AuditRecord, 'hash' | 'sig'>, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(record.hash, 'utf8'), publicKey, Buffer.from(record.sig, 'base64'));
  } catch {
    return false; // a malformed signature is simply not valid; the caller reports which entry
  }
}

/** Accept a public key as a KeyObject, a PEM string or PEM bytes. */
export function toPublicKey(key: KeyObject | string | Buffer): KeyObject {
  if (typeof key === 'string' || Buffer.isBuffer(key)) return createPublicKey(key);
  return key.type === 'public' ? key : createPublicKey(key);
}

/** Short, stable name of a public key: first 16 hex chars of SHA-256 over its DER encoding. */
export function keyFingerprint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}
