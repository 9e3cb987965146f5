// Recordings at rest, encrypted. Each recording is a directory holding its manifest, its data key
// wrapped by the KEK, and one encrypted file per segment (chunked AES-256-GCM, see
// crypto/chunkFormat.ts). Plaintext exists only in memory, on the way from the muxer into the
// cipher and from the decipher to a player. Shredding the wrapped key makes every copy of the
// ciphertext, wherever it went, unreadable; delete() then removes the files and reports their hash
// and size for the deletion receipt.
//
//   <dir>/<recordingId>/manifest.json        tracks, segments, sizes, SHA-256 of each ciphertext
//   <dir>/<recordingId>/data-key.json        the wrapped data key (gone after destroyKey)
//   <dir>/<recordingId>/segments/<seg>.enc   encrypted segment files
//   <dir>/<recordingId>/segments/<seg>.seek.enc  encrypted seek index head (SeekIndex.ts) of a media segment
//
// A player gets a segment's seekable view (openPlayback): the index's head (Duration, Cues) then
// the segment's own clusters, decrypted on the fly from both files; openSegment gives the bytes the
// muxer wrote, unchanged.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SegmentEnd, SegmentMeta } from '../../sfu/recorder/types.js';
import type { KeyWrapper, WrappedKey } from './crypto/KeyWrapper.js';
import { DATA_KEY_BYTES, DEFAULT_CHUNK_SIZE } from './crypto/chunkFormat.js';
import { EncryptStream } from './crypto/EncryptStream.js';
import { DecryptReader, type ByteRange } from './crypto/DecryptReader.js';
import { RecordingStoreError } from './RecordingStoreError.js';
import { SeekIndexBuilder, type SeekIndexInfo } from './SeekIndex.js';
import { MeasuredStream } from './MeasuredStream.js';

/** Allowed recording ids: safe as a directory name. */
export const RECORDING_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEGMENT_ID = /^seg-[0-9]{4,9}$/;
const MANIFEST = 'manifest.json';
const DATA_KEY = 'data-key.json';
const SEGMENTS = 'segments';

/** One stored segment, as listed in the manifest. */
export interface StoredSegment extends SegmentMeta {
  /** Id within the recording (`seg-0001`, ...), names its file. */
  segmentId: string;
  /** File name under segments/. */
  file: string;
  /** Whether the stream ended and the file is final (false while writing or after a failed write). */
  complete: boolean;
  /** Plaintext bytes (the muxed WebM/Matroska). */
  plaintextSize: number;
  /** Bytes on disk. */
  ciphertextSize: number;
  /** Hex SHA-256 of the file on disk. */
  sha256: string;
  /** Why the write failed, when it did. */
  writeError?: string | undefined;
  /** How the capture ended, when the recorder told (recordSegmentEnd). */
  end?: SegmentEnd | undefined;
  /** The seek index (Duration, Cues) built when the segment was finalised; its head is in `file`. */
  seek?: (SeekIndexInfo & { file: string }) | undefined;
  /** Why a media segment has no seek index (players then get the muxer's bytes as they are). */
  seekError?: string | undefined;
}

/** A recording's manifest. */
export interface RecordingManifest {
  version: 1;
  recordingId: string;
  /** ms since the epoch. */
  createdAt: number;
  /** Which KEK wraps the data key. */
  kekId: string;
  /** Plaintext bytes per encrypted chunk. */
  chunkSize: number;
  /** Free JSON from the caller (room, who started it, ...). */
  info: Record<string, unknown>;
  /** Segments in the order they started. */
  segments: StoredSegment[];
  /** When destroyKey ran (ms since the epoch). */
  keyDestroyedAt?: number | undefined;
}

/** What delete() removed: for the deletion receipt. */
export interface DeletionRecord {
  /** Hex SHA-256 over the manifest bytes followed by every segment file, in manifest order. */
  contentHash: string;
  /** Bytes removed (manifest, wrapped key if still there, segment files). */
  size: number;
}

/** Encrypted recordings in a directory. */
export class RecordingStore {
  readonly #dir: string;
  readonly #wrapper: KeyWrapper;
  readonly #chunkSize: number;
  /** Manifest updates of one recording run one after another. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Segments being written, per recording. */
  readonly #writing = new Map<string, number>();

  /** Open (creating) the store directory; data keys are wrapped by `wrapper`. */
  static async open(dir: string, wrapper: KeyWrapper, options: { chunkSize?: number } = {}): Promise<RecordingStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new RecordingStore(dir, wrapper, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  }

  private constructor(dir: string, wrapper: KeyWrapper, chunkSize: number) {
    this.#dir = dir;
    this.#wrapper = wrapper;
    this.#chunkSize = chunkSize;
  }

  /** The KEK's id (for the audit's map). */
  get kekId(): string {
    return this.#wrapper.kekId;
  }

  /** Start a recording: a fresh data key, wrapped, and an empty manifest. */
  async create(recordingId: string, info: Record<string, unknown> = {}, now = Date.now()): Promise<RecordingManifest> {
    const dir = this.#recordingDir(recordingId);
    // Wrapped before anything is written: a KEK that cannot be used (KMS unreachable) leaves no trace.
    const dataKey = randomBytes(DATA_KEY_BYTES);
    let wrapped: WrappedKey;
    try {
      wrapped = await this.#wrapper.wrap(dataKey, { recordingId, room: typeof info.room === 'string' ? info.room : '' });
    } finally {
      dataKey.fill(0);
    }
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new RecordingStoreError('exists', `recording ${recordingId} exists`);
      throw error;
    }
    await mkdir(join(dir, SEGMENTS), { mode: 0o700 });
    await writeAtomic(join(dir, DATA_KEY), JSON.stringify(wrapped));
    const manifest: RecordingManifest = {
      version: 1,
      recordingId,
      createdAt: now,
      kekId: this.#wrapper.kekId,
      chunkSize: this.#chunkSize,
      info,
      segments: [],
    };
    await writeAtomic(join(dir, MANIFEST), JSON.stringify(manifest, null, 2));
    return manifest;
  }

  /** Ids of the recordings in the store. */
  async list(): Promise<string[]> {
    const entries = await readdir(this.#dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && RECORDING_ID.test(e.name)).map((e) => e.name).sort();
  }

  /** A recording's manifest. */
  async manifest(recordingId: string): Promise<RecordingManifest> {
    const path = join(this.#recordingDir(recordingId), MANIFEST);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RecordingStoreError('not_found', `no recording ${recordingId}`);
      throw error;
    }
    return JSON.parse(text) as RecordingManifest; // written by this class only, never network input
  }

  /**
   * Encrypt `stream` (a recorder segment's muxed bytes) into a new segment file as it flows. The
   * segment is in the manifest from the start (complete: false), and gets its sizes and hash when
   * the stream ends. Resolves with the stored segment; rejects (and records writeError) if the
   * stream or the disk fails.
   */
  async writeSegment(recordingId: string, meta: SegmentMeta, stream: Readable): Promise<StoredSegment> {
    const dir = this.#recordingDir(recordingId);
    const key = await this.#dataKey(recordingId);
    this.#writing.set(recordingId, (this.#writing.get(recordingId) ?? 0) + 1);
    try {
      const segment = await this.#update(recordingId, (m) => {
        const segmentId = `seg-${String(m.segments.length + 1).padStart(4, '0')}`;
        const entry: StoredSegment = { ...meta, segmentId, file: `${segmentId}.enc`, complete: false, plaintextSize: 0, ciphertextSize: 0, sha256: '' };
        m.segments.push(entry);
        return entry;
      });
      const encrypt = new EncryptStream(key, this.#chunkSize);
      // Media segments get a seek index, built from the plaintext on its way into the cipher.
      const indexer = /^(audio|video)\//.test(meta.codec) ? new SeekIndexBuilder() : undefined;
      const index = new Transform({
        transform(chunk: Buffer, _enc, done) {
          indexer?.push(chunk);
          done(null, chunk);
        },
      });
      const measure = new MeasuredStream();
      const file = createWriteStream(join(dir, SEGMENTS, segment.file), { flags: 'wx', mode: 0o600 });
      try {
        await pipeline(stream, index, encrypt, measure, file);
      } catch (error) {
        await this.#update(recordingId, (m) => {
          const entry = m.segments.find((s) => s.segmentId === segment.segmentId);
          if (entry) entry.writeError = (error as Error).message;
        });
        throw error;
      }
      const sha256 = measure.digest();
      const ciphertextSize = measure.size;
      const seek = indexer ? await this.#writeSeekIndex(dir, segment.segmentId, key, indexer) : {};
      return await this.#update(recordingId, (m) => {
        const entry = m.segments.find((s) => s.segmentId === segment.segmentId)!;
        Object.assign(entry, { complete: true, plaintextSize: encrypt.plaintextBytes, ciphertextSize, sha256 }, seek);
        return { ...entry };
      });
    } finally {
      key.fill(0);
      const left = (this.#writing.get(recordingId) ?? 1) - 1;
      if (left === 0) this.#writing.delete(recordingId);
      else this.#writing.set(recordingId, left);
    }
  }

  /** Finish a segment's index and store its head encrypted; a segment that cannot be indexed says why. */
  async #writeSeekIndex(dir: string, segmentId: string, key: Buffer, indexer: SeekIndexBuilder): Promise<Pick<StoredSegment, 'seek' | 'seekError'>> {
    const built = indexer.finish();
    if ('error' in built) return { seekError: built.error };
    const file = `${segmentId}.seek.enc`;
    try {
      await pipeline(Readable.from([built.head]), new EncryptStream(key, this.#chunkSize), createWriteStream(join(dir, SEGMENTS, file), { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      return { seekError: `seek index not stored: ${(error as Error).message}` };
    }
    return { seek: { ...built.info, file } };
  }

  /** Bytes a player gets for a segment: its seekable view when it has an index, else the segment. */
  playbackSize(segment: StoredSegment): number {
    return segment.seek?.size ?? segment.plaintextSize;
  }

  /**
   * What a player gets, whole or the inclusive byte range given: the seekable view (the index's
   * head, then the segment's clusters) when the segment has a seek index, else openSegment's bytes.
   */
  async openPlayback(recordingId: string, segmentId: string, range?: ByteRange): Promise<{ size: number; stream: Readable; seekable: boolean }> {
    const manifest = await this.manifest(recordingId);
    const seek = manifest.segments.find((s) => s.segmentId === segmentId)?.seek;
    if (!seek) return { ...(await this.openSegment(recordingId, segmentId, range)), seekable: false };
    const start = range?.start ?? 0;
    const end = range?.end ?? seek.size - 1;
    if (start < 0 || end < start || end >= seek.size) throw new RangeError(`range ${start}-${end} is outside 0-${seek.size - 1}`);
    const key = await this.#dataKey(recordingId);
    const dir = join(this.#recordingDir(recordingId), SEGMENTS);
    let head: Buffer;
    try {
      const reader = await DecryptReader.open(join(dir, seek.file), key);
      head = Buffer.concat(await reader.stream().toArray());
    } catch (error) {
      key.fill(0);
      if ((error as Error).name === 'IntegrityError') throw new RecordingStoreError('integrity', (error as Error).message, { cause: error });
      throw error;
    }
    if (head.length !== seek.headSize) throw new RecordingStoreError('integrity', `seek index of ${segmentId} is ${head.length} bytes, the manifest says ${seek.headSize}`);
    const body = end >= seek.headSize ? await this.openSegment(recordingId, segmentId, { start: seek.bodyStart + Math.max(0, start - seek.headSize), end: seek.bodyStart + end - seek.headSize }) : undefined;
    key.fill(0);
    async function* bytes(): AsyncGenerator<Buffer> {
      if (start < seek!.headSize) yield head.subarray(start, Math.min(end + 1, seek!.headSize));
      if (body) yield* body.stream as AsyncIterable<Buffer>;
    }
    return { size: seek.size, stream: Readable.from(bytes(), { objectMode: false }), seekable: true };
  }

  /** Note in the manifest how a segment's capture ended (the recorder's `segmentEnd`). */
  async recordSegmentEnd(recordingId: string, segmentId: string, end: SegmentEnd): Promise<void> {
    await this.#update(recordingId, (m) => {
      const entry = m.segments.find((s) => s.segmentId === segmentId);
      if (!entry) throw new RecordingStoreError('not_found', `no segment ${segmentId} in ${recordingId}`);
      entry.end = end;
      if (end.senderClockAt !== undefined) entry.senderClockAt = end.senderClockAt;
      if (end.capture !== undefined) entry.capture = end.capture;
    });
  }

  /**
   * Decrypt a segment, whole or the inclusive plaintext byte range given (HTTP range requests):
   * only the chunks the range covers are read. The file's hash is not re-checked here (that reads
   * the whole file); every chunk's GCM tag is, and the final chunk is always checked.
   */
  async openSegment(recordingId: string, segmentId: string, range?: ByteRange): Promise<{ size: number; stream: Readable }> {
    if (!SEGMENT_ID.test(segmentId)) throw new RecordingStoreError('invalid_id', `bad segment id ${JSON.stringify(segmentId)}`);
    const manifest = await this.manifest(recordingId);
    const segment = manifest.segments.find((s) => s.segmentId === segmentId);
    if (!segment) throw new RecordingStoreError('not_found', `no segment ${segmentId} in ${recordingId}`);
    const key = await this.#dataKey(recordingId);
    let reader: DecryptReader;
    try {
      reader = await DecryptReader.open(join(this.#recordingDir(recordingId), SEGMENTS, segment.file), key);
    } catch (error) {
      if ((error as Error).name === 'IntegrityError') throw new RecordingStoreError('integrity', (error as Error).message, { cause: error });
      throw error;
    }
    if (range && (range.start < 0 || range.end < range.start || range.end >= reader.size)) {
      await reader.close();
      throw new RangeError(`range ${range.start}-${range.end} is outside 0-${reader.size - 1}`);
    }
    return { size: reader.size, stream: reader.stream(range) };
  }

  /** Crypto-shredding: delete the wrapped data key. Every copy of the ciphertext becomes unreadable. */
  async destroyKey(recordingId: string, now = Date.now()): Promise<void> {
    await shredKeyFile(join(this.#recordingDir(recordingId), DATA_KEY));
    await this.#update(recordingId, (m) => {
      m.keyDestroyedAt ??= now;
    });
  }

  /**
   * Remove a recording's files (its key too, if destroyKey did not run). Returns the hash and size
   * of what was removed, for the deletion receipt. Refused while a segment is being written.
   */
  async delete(recordingId: string): Promise<DeletionRecord> {
    const dir = this.#recordingDir(recordingId);
    if (this.#writing.has(recordingId)) throw new RecordingStoreError('busy', `recording ${recordingId} is still being written`);
    return this.#queue(recordingId, async () => {
      let manifestBytes: Buffer;
      try {
        manifestBytes = await readFile(join(dir, MANIFEST));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RecordingStoreError('not_found', `no recording ${recordingId}`);
        throw error;
      }
      const manifest = JSON.parse(manifestBytes.toString('utf8')) as RecordingManifest;
      const hash = createHash('sha256').update(manifestBytes);
      let size = manifestBytes.length;
      for (const path of manifest.segments.flatMap((s) => [s.file, ...(s.seek ? [s.seek.file] : [])]).map((f) => join(dir, SEGMENTS, f))) {
        try {
          await pipeline(createReadStream(path), async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              hash.update(chunk);
              size += chunk.length;
            }
          });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      await shredKeyFile(join(dir, DATA_KEY));
      await rm(dir, { recursive: true, force: true });
      return { contentHash: hash.digest('hex'), size };
    });
  }

  async #dataKey(recordingId: string): Promise<Buffer> {
    const path = join(this.#recordingDir(recordingId), DATA_KEY);
    let wrapped: WrappedKey;
    try {
      wrapped = JSON.parse(await readFile(path, 'utf8')) as WrappedKey;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await this.manifest(recordingId); // not_found if the recording itself is gone
      throw new RecordingStoreError('key_destroyed', `the data key of ${recordingId} was destroyed; it cannot be read`);
    }
    try {
      return await this.#wrapper.unwrap(wrapped, recordingId);
    } catch (error) {
      throw new RecordingStoreError('integrity', `data key of ${recordingId} does not unwrap: ${(error as Error).message}`, { cause: error });
    }
  }

  #recordingDir(recordingId: string): string {
    if (!RECORDING_ID.test(recordingId)) throw new RecordingStoreError('invalid_id', `bad recording id ${JSON.stringify(recordingId)}`);
    return join(this.#dir, recordingId);
  }

  /** Read-modify-write the manifest, one update at a time per recording. */
  #update<T>(recordingId: string, change: (manifest: RecordingManifest) => T): Promise<T> {
    return this.#queue(recordingId, async () => {
      const manifest = await this.manifest(recordingId);
      const result = change(manifest);
      await writeAtomic(join(this.#recordingDir(recordingId), MANIFEST), JSON.stringify(manifest, null, 2));
      return result;
    });
  }

  #queue<T>(recordingId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(recordingId) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.#queues.set(recordingId, settled);
    void settled.then(() => {
      if (this.#queues.get(recordingId) === settled) this.#queues.delete(recordingId);
    });
    return next;
  }
}

/** Write a file (0600) through a temporary name, so a crash never leaves half a manifest. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * Overwrite a wrapped key file with random bytes, then remove it (nothing if it is gone already).
 * Overwriting first means the old blocks of a plain filesystem no longer hold the wrapped key.
 */
async function shredKeyFile(path: string): Promise<void> {
  try {
    const { size } = await stat(path);
    await writeFile(path, randomBytes(size));
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
