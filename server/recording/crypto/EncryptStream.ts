// Encrypts a byte stream into the chunked segment format (see chunkFormat.ts) as it flows, so the
// recorder's output is ciphertext before it reaches the disk. One chunk is held back until the
// next byte arrives, because only the end of the input says which chunk is the final one.
import { Transform, type TransformCallback } from 'node:stream';
import { DATA_KEY_BYTES, DEFAULT_CHUNK_SIZE, newHeader, sealChunk } from './chunkFormat.js';

/** A Transform from plaintext to the sealed chunk format. */
export class EncryptStream extends Transform {
  readonly #key: Buffer;
  readonly #header: Buffer;
  readonly #chunkSize: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #index = 0;
  #plaintextBytes = 0;

  /** Encrypt with a 32-byte data key, in chunks of `chunkSize` plaintext bytes. */
  constructor(key: Buffer, chunkSize = DEFAULT_CHUNK_SIZE) {
    super();
    if (key.length !== DATA_KEY_BYTES) throw new RangeError('data key must be 32 bytes');
    this.#key = key;
    this.#chunkSize = chunkSize;
    this.#header = newHeader(chunkSize);
    this.push(this.#header);
  }

  /** Plaintext bytes taken in so far. */
  get plaintextBytes(): number {
    return this.#plaintextBytes;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#plaintextBytes += data.length;
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    // Strictly more than one chunk: the chunk sealed now is certainly not the last one.
    while (this.#pendingBytes > this.#chunkSize) this.push(this.#seal(this.#take(this.#chunkSize), false));
    done();
  }

  override _flush(done: TransformCallback): void {
    this.push(this.#seal(this.#take(this.#pendingBytes), true));
    done();
  }

  #take(bytes: number): Buffer {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending);
    const taken = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    return taken;
  }

  #seal(plaintext: Buffer, final: boolean): Buffer {
    return sealChunk(this.#key, this.#header, this.#index++, final, plaintext);
  }
}
