// One recording as one Matroska file, on request: every consented track (each stored segment,
// placed at its offset in the class) muxed by Debian's ffmpeg with no re-encode (-c copy). The
// segments are decrypted into ffmpeg's extra pipes (fd 3, 4, ...) and the file comes out of its
// stdout straight into the HTTP response, so the plaintext is only ever in memory and in pipes:
// nothing of it is written to disk by Lectern or by ffmpeg. Its size and SHA-256 are measured as
// it flows, for the audit entry.
//
// The output is a pipe, so ffmpeg cannot go back to write the segment duration or cues: players
// read the duration from the timestamps (ffprobe reports each stream's from its packets).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable, type Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { RecordingStore, StoredSegment } from './RecordingStore.js';
import { EVENTS_TRACK } from './EventsFile.js';

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
 * Start exporting. Resolves once ffmpeg has produced its first bytes (so a failure to start is an
 * error the caller can still answer with a status), rejects with RecordingExportError otherwise.
 */
export async function startExport(options: ExportOptions): Promise<RunningExport> {
  const segments = exportedSegments(options.segments);
  if (segments.length === 0) throw new RecordingExportError('this recording has no tracks to export');
  const first = Math.min(...segments.map((s) => s.startedAt));
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  segments.forEach((segment, i) => {
    // Each segment where it began, from the first one's start (ffmpeg starts every input at 0 and
    // adds its offset): the tracks stay in step as they were recorded.
    args.push('-itsoffset', ((segment.startedAt - first) / 1000).toFixed(3), '-f', 'matroska', '-i', `pipe:${3 + i}`);
  });
  segments.forEach((_segment, i) => args.push('-map', String(i)));
  args.push('-c', 'copy', '-f', 'matroska', 'pipe:1');
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
    child.kill('SIGKILL');
    for (const input of inputs) input.destroy();
    throw error;
  }

  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const out = new PassThrough();
  let ended = false;
  out.once('end', () => (ended = true));
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  // Ended only once ffmpeg exited cleanly: a failure midway must not look like a whole file.
  child.stdout!.pipe(measure).pipe(out, { end: false });
  const drained = new Promise<void>((resolve) => measure.once('end', () => resolve()));
  // The receiver went away: stop ffmpeg and the decryption.
  void closed.then(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const input of inputs) input.destroy();
  });

  const started = await Promise.race([
    new Promise<'data'>((resolve) => measure.once('data', () => resolve('data'))),
    exited.then(() => 'exited' as const),
  ]);
  if (started === 'exited' && size === 0) {
    out.destroy();
    options.log.error({ recording: options.recordingId, stderr }, 'export: ffmpeg produced nothing');
    throw new RecordingExportError(`ffmpeg could not mux the recording: ${lastLine(stderr)}`);
  }

  const result = (async (): Promise<ExportResult> => {
    const code = await exited;
    if (code === 0) {
      await drained;
      try {
        await options.seal({ size, contentHash: hash.copy().digest('hex'), complete: true, tracks: segments.length });
        out.end();
      } catch (error) {
        out.destroy(error as Error);
      }
    } else {
      options.log.error({ recording: options.recordingId, code, stderr }, 'export: ffmpeg failed');
      out.destroy(new RecordingExportError(`ffmpeg failed: ${lastLine(stderr)}`));
    }
    await closed;
    return { size, contentHash: hash.digest('hex'), complete: code === 0 && ended, tracks: segments.length };
  })();
  return { stream: out, result };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 200) || 'no message';
}
