// One recording as one Matroska file, on request: every consented track (each stored segment,
// placed at its offset in the class) muxed by Debian's ffmpeg with no re-encode (-c copy). The
// segments are decrypted into ffmpeg's extra pipes (fd 3, 4, ...) and the file comes out of its
// stdout, so the plaintext is only ever in memory and in pipes: nothing of it is written to disk by
// Lectern or by ffmpeg. Its size and SHA-256 are measured as it flows, for the audit entry.
//
// The output is a pipe, so ffmpeg cannot go back to write the Duration and the Cues, and a file
// without them has no length and cannot be seeked in a player. So the export muxes twice, with
// ffmpeg bit-exact (same inputs, same bytes): the first pass only feeds the seek index builder
// (SeekIndex.ts, as for every recorded segment) and notes a SHA-256 per MiB of what it saw; the
// second pass is sent as the index's head (EBML header, Segment of known size, Info with the
// Duration, Tracks, Cues) followed by its clusters, each MiB checked against the first pass before
// it leaves, so a second pass that came out different fails the download instead of sending a
// file whose Cues point at the wrong bytes. The download begins once the first pass is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable, type Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { RecordingStore, StoredSegment } from './RecordingStore.js';
import { EVENTS_TRACK } from './EventsFile.js';
import { SeekIndexBuilder, type SeekIndex } from './SeekIndex.js';
import { MeasuredStream } from './MeasuredStream.js';

/** The first pass's bytes are fingerprinted per this many bytes (32 bytes of hash per MiB kept). */
const BLOCK_BYTES = 1024 * 1024;

/** What a finished (or cut short) export sent. */
export interface ExportResult {
  /** Bytes sent. */
  size: number;
  /** Hex SHA-256 of the bytes sent. */
  contentHash: string;
  /** Whether ffmpeg finished and every byte went out. */
  complete: boolean;
  /** Tracks muxed. */
  tracks: number;
}

/** Why an export could not be made. */
export class RecordingExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingExportError';
  }
}

/** A running export: the file as a stream, and what it amounted to once it ends. */
export interface RunningExport {
  stream: Readable;
  /** Bytes the whole file has (the index's head and the clusters): known before the first is sent. */
  size: number;
  result: Promise<ExportResult>;
}

/** Options of an export. */
export interface ExportOptions {
  store: RecordingStore;
  recordingId: string;
  /** The recording's segments (from its manifest). */
  segments: readonly StoredSegment[];
  log: FastifyBaseLogger;
  /**
   * Called with the result of a whole export before its last byte is released (the end of the
   * stream is held back until it resolves; if it rejects, the download fails): the audit entry goes
   * here, so no complete export exists without one. A cut-short export is reported by `result`.
   */
  seal: (result: ExportResult) => Promise<void>;
  ffmpegPath?: string;
}

/** The media segments an export muxes: every complete one that is not the events file. */
export function exportedSegments(segments: readonly StoredSegment[]): StoredSegment[] {
  return segments.filter((s) => s.complete && s.trackId !== EVENTS_TRACK && s.plaintextSize > 0);
}

/**
 * Start exporting: the first pass is done (so a failure is an error the caller can still answer
 * with a status) when this resolves; rejects with RecordingExportError if ffmpeg cannot mux it.
 */
export async function startExport(options: ExportOptions): Promise<RunningExport> {
  const segments = exportedSegments(options.segments);
  if (segments.length === 0) throw new RecordingExportError('this recording has no tracks to export');
  const first = await indexPass(options, segments);
  const { index, blocks, muxedSize } = first;
  const { bodyStart, bodyEnd } = index.info;

  const second = await mux(options, segments);
  const measure = new MeasuredStream();
  const out = new PassThrough();
  let ended = false;
  out.once('end', () => (ended = true));
  let receiverGone = false;
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  // The receiver went away: stop ffmpeg and the decryption.
  void closed.then(() => {
    receiverGone = !ended;
    second.abort();
  });
  const verified = new VerifiedBody(blocks, muxedSize, bodyStart, bodyEnd);
  const drained = new Promise<Error | undefined>((resolve) => {
    measure.once('end', () => resolve(undefined));
    verified.once('error', (error) => {
      second.abort(); // nobody reads its stdout any more
      resolve(error);
    });
  });
  measure.pipe(out, { end: false });
  measure.write(index.head);
  // Ended only once ffmpeg exited cleanly and every byte matched: a failure must not look like a whole file.
  second.stdout.pipe(verified).pipe(measure);

  const result = (async (): Promise<ExportResult> => {
    const [code, mismatch] = await Promise.all([second.exited, drained]);
    if (code === 0 && !mismatch) {
      try {
        await options.seal({ size: measure.size, contentHash: measure.digest(), complete: true, tracks: segments.length });
        out.end();
      } catch (error) {
        out.destroy(error as Error);
      }
    } else {
      if (!receiverGone) options.log.error({ recording: options.recordingId, code, stderr: second.stderr(), err: mismatch }, 'export: the second pass failed');
      second.abort();
      out.destroy(mismatch ?? new RecordingExportError(`ffmpeg failed: ${lastLine(second.stderr())}`));
    }
    await closed;
    return { size: measure.size, contentHash: measure.digest(), complete: code === 0 && !mismatch && ended, tracks: segments.length };
  })();
  return { stream: out, size: index.info.size, result };
}

/** ffmpeg muxing the decrypted segments into one Matroska stream on its stdout. */
interface Muxing {
  stdout: Readable;
  /** Exit code (-1: could not start). */
  exited: Promise<number | null>;
  stderr(): string;
  /** Stop ffmpeg and the decryption. */
  abort(): void;
}

async function mux(options: ExportOptions, segments: readonly StoredSegment[]): Promise<Muxing> {
  const first = Math.min(...segments.map((s) => s.startedAt));
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  segments.forEach((segment, i) => {
    // Each segment where it began, from the first one's start (ffmpeg starts every input at 0 and
    // adds its offset): the tracks stay in step as they were recorded.
    args.push('-itsoffset', ((segment.startedAt - first) / 1000).toFixed(3), '-f', 'matroska', '-i', `pipe:${3 + i}`);
  });
  segments.forEach((_segment, i) => args.push('-map', String(i)));
  // Bit-exact (no random UIDs, no muxing date, no version string) and interleaved by timestamps
  // alone (no give-up delay, which would depend on how fast each pipe is read): the same bytes
  // from the same inputs, which the two passes rely on (and check).
  args.push('-c', 'copy', '-fflags', '+bitexact', '-max_interleave_delta', '0', '-f', 'matroska', 'pipe:1');
  const child: ChildProcess = spawn(options.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe', ...segments.map(() => 'pipe' as const)] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', (error) => {
      stderr += `\n${error.message}`;
      resolve(-1);
    });
  });
  // Decrypt each segment into its pipe. A pipe ffmpeg closed early (it had what it needed, or it
  // failed) ends that feed; the exit code says which.
  const inputs: Readable[] = [];
  const abort = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const input of inputs) input.destroy();
  };
  try {
    for (const [i, segment] of segments.entries()) {
      const { stream } = await options.store.openSegment(options.recordingId, segment.segmentId);
      inputs.push(stream);
      const pipe = child.stdio[3 + i] as Writable;
      pipe.on('error', () => stream.destroy());
      stream.on('error', (error) => {
        options.log.error({ err: error, recording: options.recordingId, segment: segment.segmentId }, 'export: a segment could not be decrypted');
        child.kill('SIGKILL');
      });
      stream.pipe(pipe);
    }
  } catch (error) {
    abort();
    throw error;
  }
  return { stdout: child.stdout!, exited, stderr: () => stderr, abort };
}

/** The first pass: the seek index of the muxed file, and a SHA-256 per BLOCK_BYTES of it. */
async function indexPass(options: ExportOptions, segments: readonly StoredSegment[]): Promise<{ index: SeekIndex; blocks: Buffer[]; muxedSize: number }> {
  const muxing = await mux(options, segments);
  const builder = new SeekIndexBuilder();
  const blocks = new BlockHashes();
  muxing.stdout.on('data', (chunk: Buffer) => {
    builder.push(chunk);
    blocks.push(chunk);
  });
  const drained = new Promise<void>((resolve) => muxing.stdout.once('end', () => resolve()).once('error', () => resolve()));
  const [code] = await Promise.all([muxing.exited, drained]);
  if (code !== 0 || blocks.size === 0) {
    options.log.error({ recording: options.recordingId, code, stderr: muxing.stderr() }, 'export: ffmpeg could not mux the recording');
    throw new RecordingExportError(`ffmpeg could not mux the recording: ${lastLine(muxing.stderr())}`);
  }
  const index = builder.finish();
  if ('error' in index) {
    options.log.error({ recording: options.recordingId, error: index.error }, 'export: the muxed file could not be indexed');
    throw new RecordingExportError(`the exported file could not be indexed: ${index.error}`);
  }
  return { index, blocks: blocks.finish(), muxedSize: blocks.size };
}

/** SHA-256 of each BLOCK_BYTES of a stream (the last block may be shorter). */
class BlockHashes {
  readonly #hashes: Buffer[] = [];
  #hash = createHash('sha256');
  #inBlock = 0;
  #size = 0;

  /** Bytes seen. */
  get size(): number {
    return this.#size;
  }

  push(chunk: Buffer): void {
    this.#size += chunk.length;
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(rest.length, BLOCK_BYTES - this.#inBlock);
      this.#hash.update(rest.subarray(0, take));
      this.#inBlock += take;
      rest = rest.subarray(take);
      if (this.#inBlock === BLOCK_BYTES) {
        this.#hashes.push(this.#hash.digest());
        this.#hash = createHash('sha256');
        this.#inBlock = 0;
      }
    }
  }

  /** The hashes, the partial last block's included. */
  finish(): Buffer[] {
    if (this.#inBlock > 0) this.#hashes.push(this.#hash.digest());
    this.#inBlock = 0;
    return this.#hashes;
  }
}

/**
 * The second pass's bytes from `bodyStart` to `bodyEnd` (the clusters), each block released only
 * once its hash matches the first pass's; an error (and nothing more) on the first that does not.
 */
class VerifiedBody extends Transform {
  readonly #expected: Buffer[];
  readonly #size: number;
  readonly #bodyStart: number;
  readonly #bodyEnd: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Offset (in the muxer's output) of the first pending byte. */
  #offset = 0;
  #block = 0;

  constructor(expected: Buffer[], size: number, bodyStart: number, bodyEnd: number) {
    super();
    this.#expected = expected;
    this.#size = size;
    this.#bodyStart = bodyStart;
    this.#bodyEnd = bodyEnd;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    while (this.#pendingBytes >= BLOCK_BYTES) {
      const all = Buffer.concat(this.#pending);
      const error = this.#release(all.subarray(0, BLOCK_BYTES));
      if (error) return done(error);
      this.#pending = [all.subarray(BLOCK_BYTES)];
      this.#pendingBytes -= BLOCK_BYTES;
    }
    done();
  }

  override _flush(done: (error?: Error | null) => void): void {
    const last = Buffer.concat(this.#pending);
    this.#pending = [];
    const error = last.length > 0 ? this.#release(last) : undefined;
    if (error) return done(error);
    if (this.#offset !== this.#size || this.#block !== this.#expected.length) return done(new RecordingExportError(`the second pass muxed ${this.#offset} bytes, the first ${this.#size}`));
    done();
  }

  #release(block: Buffer): Error | undefined {
    const expected = this.#expected[this.#block];
    if (!expected || !createHash('sha256').update(block).digest().equals(expected)) {
      return new RecordingExportError(`the second pass differs from the first in bytes ${this.#offset}-${this.#offset + block.length - 1}`);
    }
    const from = Math.max(this.#bodyStart, this.#offset) - this.#offset;
    const to = Math.min(this.#bodyEnd, this.#offset + block.length) - this.#offset;
    if (to > from) this.push(block.subarray(from, to));
    this.#offset += block.length;
    this.#block++;
    return undefined;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 200) || 'no message';
}
