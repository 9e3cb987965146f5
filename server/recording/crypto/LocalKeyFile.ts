// The embedded default KEK: 32 random bytes in a file of the data directory, created 0600 on first
// use. Data keys are wrapped with AES-256-GCM under it, the recording id bound as AAD so a wrapped
// key copied into another recording's folder does not unwrap there.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyBinding, KeyWrapper, WrappedKey } from './KeyWrapper.js';
import { DATA_KEY_BYTES, IntegrityError } from './chunkFormat.js';

/** Name of the KEK file in the data directory. */
export const KEK_FILE = 'recording-kek.key';
const SCHEME = 'local-aes-256-gcm';

/** A key-encryption key kept in a local file. */
export class LocalKeyFile implements KeyWrapper {
  /** `local:` and the first 16 hex digits of the KEK's SHA-256 (names the key, reveals nothing). */
  readonly kekId: string;
  readonly #kek: Buffer;

  /** Open the KEK file in `dataDir`, creating it (0600) if there is none. Refuses a file others can read. */
  static async open(dataDir: string): Promise<LocalKeyFile> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const path = join(dataDir, KEK_FILE);
    try {
      // 'wx': never overwrite a KEK that exists (that would shred every recording).
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(randomBytes(DATA_KEY_BYTES));
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) throw new Error(`${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
    const kek = await readFile(path);
    if (kek.length !== DATA_KEY_BYTES) throw new Error(`${path} does not hold a 32-byte key`);
    return new LocalKeyFile(kek);
  }

  private constructor(kek: Buffer) {
    this.#kek = kek;
    this.kekId = `local:${createHash('sha256').update(kek).digest('hex').slice(0, 16)}`;
  }

  /** Wrap a data key for a recording (its id is the AAD, as it always was; the room is not needed here). */
  async wrap(dataKey: Buffer, { recordingId }: KeyBinding): Promise<WrappedKey> {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#kek, nonce);
    cipher.setAAD(Buffer.from(recordingId, 'utf8'));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { kekId: this.kekId, scheme: SCHEME, ciphertext: Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64') };
  }

  /** Unwrap a data key of `recordingId`. */
  async unwrap(wrapped: WrappedKey, recordingId: string): Promise<Buffer> {
    if (wrapped.scheme !== SCHEME || wrapped.kekId !== this.kekId) {
      throw new IntegrityError(`data key was wrapped by ${wrapped.scheme} ${wrapped.kekId}, not this key file (${this.kekId})`);
    }
    const sealed = Buffer.from(wrapped.ciphertext, 'base64');
    if (sealed.length !== 12 + DATA_KEY_BYTES + 16) throw new IntegrityError('wrapped data key has the wrong length');
    const decipher = createDecipheriv('aes-256-gcm', this.#kek, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(recordingId, 'utf8'));
    decipher.setAuthTag(sealed.subarray(12 + DATA_KEY_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(12, 12 + DATA_KEY_BYTES)), decipher.final()]);
    } catch {
      throw new IntegrityError(`wrapped data key of ${recordingId} failed authentication`);
    }
  }
}
