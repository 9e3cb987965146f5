// Reading the clock sender's media (tests/helpers/rtpSender.ts) back out of recorded files with
// ffmpeg, fed the decrypted bytes through a pipe so no plaintext is written to disk.
import { spawn } from 'node:child_process';
import { BAR_PX_PER_SECOND } from './rtpSender.js';

/** Run ffmpeg/ffprobe with `input` on stdin; resolves with stdout and stderr. */
export async function withStdin(command: 'ffmpeg' | 'ffprobe', args: string[], input: Buffer): Promise<{ stdout: Buffer; stderr: string }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.on('error', () => undefined); // it may stop reading once it has what it needs
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`);
  return { stdout: Buffer.concat(out), stderr };
}

/** The container duration ffprobe reports for `bytes` read from a pipe (NaN when it has none). */
export async function probedDuration(bytes: Buffer): Promise<number> {
  const { stdout } = await withStdin('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', '-i', 'pipe:0'], bytes);
  return Number((JSON.parse(stdout.toString()) as { format: { duration?: string } }).format.duration ?? Number.NaN);
}

/** White columns in a row of 8-bit gray pixels, as the sender's clock (seconds, mod the bar's period). */
export function barSeconds(row: ArrayLike<number>): number {
  let white = 0;
  for (let i = 0; i < row.length; i++) if (row[i]! > 128) white++;
  return white / BAR_PX_PER_SECOND;
}

/** The sender's clock at the first video frame of a recorded file. */
export async function firstFrameClock(bytes: Buffer): Promise<number> {
  const { stdout } = await withStdin('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-frames:v', '1', '-vf', 'scale=320:1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], bytes);
  return barSeconds(stdout.subarray(0, 320));
}

/** The beeps of a recorded audio file: when each starts (file time, s) and which beep of the sender's it is, mod 4. */
export async function beeps(bytes: Buffer): Promise<{ at: number; index: number }[]> {
  const { stderr } = await withStdin('ffmpeg', ['-v', 'info', '-nostats', '-i', 'pipe:0', '-af', 'silencedetect=n=-30dB:d=0.05', '-f', 'null', '-'], bytes);
  const ends = [...stderr.matchAll(/silence_end: (-?[0-9.]+)/g)].map((m) => Number(m[1]));
  const starts = [...stderr.matchAll(/silence_start: (-?[0-9.]+)/g)].map((m) => Number(m[1]));
  // A beep runs from a silence's end to the next silence's start; its length (100 ms * (1 + k mod 4)) says which.
  return ends.flatMap((at) => {
    const next = starts.find((s) => s > at);
    if (next === undefined) return [];
    return [{ at, index: Math.round((next - at) / 0.1) - 1 }];
  });
}
