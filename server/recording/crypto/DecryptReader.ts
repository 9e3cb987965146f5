// Reads an encrypted segment file back as plaintext, whole or a byte range (HTTP range requests
// of the playback page): only the chunks the range covers are read and decrypted, plus the final
// chunk once, so a file cut short is refused even when the range does not reach its end.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CHUNK_OVERHEAD, HEADER_BYTES, IntegrityError, layout, openChunk, parseHeader } from './chunkFormat.js';

/** An inclusive plaintext byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** An open encrypted segment: its plaintext size and a way to stream any range of it. */
export class DecryptReader {
  readonly #file: FileHandle;
  readonly #key: Buffer;
  readonly #header: Buffer;
  readonly #chunkSize: number;
  readonly #chunks: number;
  /** Plaintext bytes in the file. */
  readonly size: number;

  /** Open `path` with its data key; checks the header and the final chunk. */
  static async open(path: string, key: Buffer): Promise<DecryptReader> {
    const file = await open(path, 'r');
    try {
      const { size: fileSize } = await file.stat();
      const header = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await file.read(header, 0, HEADER_BYTES, 0);
      if (bytesRead !== HEADER_BYTES) throw new IntegrityError('encrypted segment is truncated (no header)');
      const chunkSize = parseHeader(header);
      const { chunks, plaintextSize } = layout(fileSize, chunkSize);
      const reader = new DecryptReader(file, key, header, chunkSize, chunks, plaintextSize);
      await reader.#chunk(chunks - 1); // the final chunk must be there and say it is final
      return reader;
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  private constructor(file: FileHandle, key: Buffer, header: Buffer, chunkSize: number, chunks: number, size: number) {
    this.#file = file;
    this.#key = key;
    this.#header = header;
    this.#chunkSize = chunkSize;
    this.#chunks = chunks;
    this.size = size;
  }

  /**
   * Stream plaintext bytes [start, end] (inclusive; default the whole file). The file closes when the
   * stream ends or is destroyed. A chunk that fails authentication ends the stream with IntegrityError.
   */
  stream(range?: ByteRange): Readable {
    const start = range?.start ?? 0;
    const end = range?.end ?? this.size - 1;
    if (this.size === 0 && !range) {
      void this.close();
      return Readable.from([]);
    }
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end >= this.size) {
      void this.close();
      throw new RangeError(`range ${start}-${end} is outside 0-${this.size - 1}`);
    }
    const first = Math.floor(start / this.#chunkSize);
    const last = Math.floor(end / this.#chunkSize);
    const reader = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        for (let index = first; index <= last; index++) {
          const plain = await reader.#chunk(index);
          const from = index === first ? start - index * reader.#chunkSize : 0;
          const to = index === last ? end - index * reader.#chunkSize + 1 : plain.length;
          yield plain.subarray(from, to);
        }
      } finally {
        await reader.close();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** Close the file (also done when a stream ends). Idempotent. */
  async close(): Promise<void> {
    await this.#file.close().catch(() => undefined);
  }

  async #chunk(index: number): Promise<Buffer> {
    const final = index === this.#chunks - 1;
    const sealedSize = this.#chunkSize + CHUNK_OVERHEAD;
    const offset = HEADER_BYTES + index * sealedSize;
    const length = final ? this.size - index * this.#chunkSize + CHUNK_OVERHEAD : sealedSize;
    const sealed = Buffer.alloc(length);
    const { bytesRead } = await this.#file.read(sealed, 0, length, offset);
    if (bytesRead !== length) throw new IntegrityError(`chunk ${index} is truncated`);
    return openChunk(this.#key, this.#header, index, final, sealed);
  }
}
