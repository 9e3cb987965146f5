// The tool's own keys, kept in lti.keyDir like the audit log keeps its signing key: an RSA key pair
// (its public half is the JWKS the LMS is told at registration, for Deep Linking and service
// tokens) and one 32-byte secret from which the room-name key, the subject-pseudonym key and the
// state-cookie key are derived (HKDF, one label each), so a room keeps its name across restarts.
import { createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

/** File names inside lti.keyDir. */
export const LTI_KEY_FILES = { privateKey: 'tool-signing-key.pem', secret: 'tool-secret.key' } as const;

/** What each derived key is for; a key derived for one use is useless for the others. */
type Purpose = 'room-name' | 'subject' | 'state-cookie';

/** The tool's signing key pair and derived secrets. */
export class ToolKeys {
  readonly #secret: Buffer;
  /** The private key (RS256), for messages the tool signs. */
  readonly privateKey: KeyObject;
  /** The public key as a JWK with `kid`, `alg` and `use`. */
  readonly publicJwk: JWK;

  private constructor(secret: Buffer, privateKey: KeyObject, publicJwk: JWK) {
    this.#secret = secret;
    this.privateKey = privateKey;
    this.publicJwk = publicJwk;
  }

  /** Read the keys from `dir`, creating them (mode 0600) the first time. Throws on an unreadable key. */
  static async load(dir: string): Promise<ToolKeys> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const pem = await readOrCreate(join(dir, LTI_KEY_FILES.privateKey), () =>
      Buffer.from(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' })),
    );
    const secret = await readOrCreate(join(dir, LTI_KEY_FILES.secret), () => randomBytes(32));
    if (secret.length !== 32) throw new Error(`${join(dir, LTI_KEY_FILES.secret)} must hold exactly 32 bytes`);
    const privateKey = createPrivateKey(pem);
    if (privateKey.asymmetricKeyType !== 'rsa') throw new Error(`${join(dir, LTI_KEY_FILES.privateKey)} is not an RSA key`);
    const jwk = await exportJWK(createPublicKey(privateKey));
    const publicJwk: JWK = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
    return new ToolKeys(secret, privateKey, publicJwk);
  }

  /** The key set served at /.well-known/jwks.json (public keys only). */
  get jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** A 32-byte key for one purpose, derived from the tool secret. */
  derive(purpose: Purpose): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#secret, Buffer.alloc(0), `lectern-lti:${purpose}`, 32));
  }
}

async function readOrCreate(file: string, make: () => Buffer): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  try {
    // 'wx': two servers starting at once must not overwrite each other's key.
    await writeFile(file, make(), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFile(file);
}
