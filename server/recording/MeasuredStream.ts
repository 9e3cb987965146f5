// A pass-through that measures what flows through it: its SHA-256 and size. The content hash and
// size of a stored segment (for its deletion receipt) and of an export (for its audit entry) are
// the same measure, taken in one place.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** Bytes through it are hashed and counted; read `size` and `digest()` once it has ended. */
export class MeasuredStream extends Transform {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
    done(null, chunk);
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** SHA-256 (hex) of the bytes seen so far; it may be asked again later (the hash is copied). */
  digest(): string {
    return this.#hash.copy().digest('hex');
  }
}
