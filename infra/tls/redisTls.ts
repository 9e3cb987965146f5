// TLS for Redis on a media host (a Local Zone cluster, where no managed Redis is in the country): a
// private CA and the Redis host's certificate, made by the program from the stack secret
// lectern:clusterSecret. Derived, not random: the same secret gives byte-identical certificates on
// every `pulumi up` (Ed25519 signatures are deterministic, the dates fixed), so no host is replaced
// because a preview ran, and nothing has to be kept in state. Rotating the secret rotates both.
// The CA's key exists only in the program's memory; the nodes trust the CA certificate (public, in
// user-data), the Redis host gets its own key through SSM like the other host secrets. Anyone holding
// the secret could derive the key, but he could also just AUTH to Redis: TLS here keeps out whoever
// sits on the network without the secret, which is what it is for.
import { createHash, createPrivateKey, createPublicKey, hkdfSync, sign, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { bitString, bool, explicit, implicit, octets, oid, sequence, set, time, unsignedInteger, utf8 } from './der.js';

/** The PEM files a host-Redis cluster needs. */
export interface RedisTlsMaterial {
  /** The CA the nodes trust (cluster.redis.caFile); public. */
  readonly caCertPem: string;
  /** The Redis host's certificate: its private address as the only name (IP SAN); public. */
  readonly serverCertPem: string;
  /** The Redis host's key (PKCS#8); secret, delivered through SSM. */
  readonly serverKeyPem: string;
}

// Fixed validity: derived certificates must not change with the day the program runs.
const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
const NOT_AFTER = new Date('2076-01-01T00:00:00Z');
const ED25519 = '1.3.101.112';
// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410 section 7).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Derive the CA and the Redis host's certificate for `serverAddress` from the cluster secret. */
export function redisTlsMaterial(secret: string, serverAddress: string): RedisTlsMaterial {
  if (!isIPv4(serverAddress)) throw new Error(`redis TLS: ${serverAddress} is not an IPv4 address`);
  const caKey = derivedKey(secret, 'lectern redis tls ca v1');
  const serverKey = derivedKey(secret, 'lectern redis tls server v1');
  const caName = name('Lectern cluster Redis CA');
  const caSpki = spki(caKey);
  const caKeyId = keyId(caSpki);
  const ca = certificate({
    serial: serialOf('ca', caSpki),
    issuer: caName,
    subject: caName,
    spki: caSpki,
    extensions: [
      extension('2.5.29.19', true, sequence(bool(true), unsignedInteger(Buffer.from([0])))),
      // keyCertSign and cRLSign (bits 5 and 6).
      extension('2.5.29.15', true, bitString(Buffer.from([0x06]), 1)),
      extension('2.5.29.14', false, octets(caKeyId)),
    ],
    signer: caKey,
  });
  const serverSpki = spki(serverKey);
  const server = certificate({
    serial: serialOf(`server ${serverAddress}`, serverSpki),
    issuer: caName,
    subject: name(`Lectern Redis ${serverAddress}`),
    spki: serverSpki,
    extensions: [
      extension('2.5.29.19', true, sequence()),
      // digitalSignature (bit 0).
      extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)),
      extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))),
      extension('2.5.29.17', false, sequence(implicit(7, Buffer.from(serverAddress.split('.').map(Number))))),
      extension('2.5.29.35', false, sequence(implicit(0, caKeyId))),
      extension('2.5.29.14', false, octets(keyId(serverSpki))),
    ],
    signer: caKey,
  });
  return { caCertPem: pem('CERTIFICATE', ca), serverCertPem: pem('CERTIFICATE', server), serverKeyPem: serverKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function derivedKey(secret: string, label: string): KeyObject {
  const seed = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('lectern'), Buffer.from(label), 32));
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

const spki = (key: KeyObject): Buffer => createPublicKey(key).export({ type: 'spki', format: 'der' });
// RFC 5280's method 1 takes SHA-1 of the key; any stable 160-bit value will do.
const keyId = (der: Buffer): Buffer => createHash('sha256').update(der).digest().subarray(0, 20);

function serialOf(label: string, der: Buffer): Buffer {
  const bytes = createHash('sha256').update(label).update(der).digest().subarray(0, 16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes;
}

const name = (commonName: string): Buffer => sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function certificate(c: { serial: Buffer; issuer: Buffer; subject: Buffer; spki: Buffer; extensions: Buffer[]; signer: KeyObject }): Buffer {
  const algorithm = sequence(oid(ED25519));
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(c.serial),
    algorithm,
    c.issuer,
    sequence(time(NOT_BEFORE), time(NOT_AFTER)),
    c.subject,
    c.spki,
    explicit(3, sequence(...c.extensions)),
  );
  return sequence(tbs, algorithm, bitString(sign(null, tbs, c.signer)));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
