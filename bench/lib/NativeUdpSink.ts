// The C counting sink (bench/sink/udp-sink.c), compiled on first use into the temp directory. Used
// for plain-RTP subscribers when a C compiler exists: it reads with recvmmsg and keeps up with a
// 1 -> 500 fan-out where Node's per-datagram callbacks cannot.
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../sink/udp-sink.c', import.meta.url));

/** Counts from the native sink for the current window. */
export interface NativeReport {
  received: number;
  streams: number;
  minPerStream: number;
  maxPerStream: number;
  recvBufferBytes: number;
  buckets: [bucket: number, count: number][];
}

let binary: string | null | undefined;

/** Path of the compiled sink, compiling it if needed; null when there is no C compiler. */
export function nativeSinkBinary(): string | null {
  if (binary !== undefined) return binary;
  if (process.env.BENCH_NODE_SINK === '1') return (binary = null);
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'lectern-bench');
  const out = join(dir, `udp-sink-${hash}`);
  if (!existsSync(out)) {
    try {
      mkdirSync(dir, { recursive: true });
      execFileSync('cc', ['-O2', '-o', out, SOURCE], { stdio: 'ignore' });
    } catch {
      return (binary = null);
    }
  }
  return (binary = out);
}

/** A running native sink process. */
export class NativeUdpSink {
  readonly ports: number[];
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  /** Start the sink with `sockets` sockets on 127.0.0.1. */
  static async create(path: string, sockets: number): Promise<NativeUdpSink> {
    const child = spawn(path, [String(sockets)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`udp-sink exited (${code})`)));
    });
    return new NativeUdpSink(child, lines, first.split(' ').slice(1).map(Number));
  }

  private constructor(child: ChildProcessWithoutNullStreams, lines: Interface, ports: number[]) {
    this.#child = child;
    this.#lines = lines;
    this.ports = ports;
    lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  #command(command: string): Promise<string> {
    return new Promise<string>((resolve) => {
      this.#waiting.push(resolve);
      this.#child.stdin.write(`${command}\n`);
    });
  }

  /** Count only packets whose marker counter is in [start, end); resets the counts. */
  async setWindow(start: number, end: number): Promise<void> {
    await this.#command(`window ${start} ${end}`);
  }

  /** Counts for the current window. */
  async report(): Promise<NativeReport> {
    const [, received, streams, min, max, rcvbuf, ...buckets] = (await this.#command('report')).split(' ');
    return {
      received: Number(received),
      streams: Number(streams),
      minPerStream: Number(min),
      maxPerStream: Number(max),
      recvBufferBytes: Number(rcvbuf),
      buckets: buckets.map((b) => b.split(':').map(Number) as [number, number]),
    };
  }

  /** Stop the process. */
  close(): void {
    this.#lines.close();
    this.#child.stdin.end('quit\n');
    this.#child.kill();
  }
}
