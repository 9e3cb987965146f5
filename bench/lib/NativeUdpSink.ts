// The C counting sink (bench/sink/udp-sink.c), compiled on first use into the temp directory. Used
// for plain-RTP and SRTP subscribers when a C compiler exists: it reads with recvmmsg and keeps up
// with a 1 -> 500 fan-out where Node's per-datagram callbacks cannot. With libsrtp2's headers
// (libsrtp2-dev) it is built to decrypt SRTP too.
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
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
  /** SRTP packets that failed to decrypt or authenticate in the window (not counted as received). */
  srtpFailures: number;
  buckets: [bucket: number, count: number][];
}

/** A compiled sink and whether it decrypts SRTP, with which libsrtp build. */
export interface NativeSinkBinary {
  path: string;
  srtp: false | 'libsrtp2/OpenSSL' | 'libsrtp2/NSS';
}

/**
 * The OpenSSL build of libsrtp2 that scripts/mediasoup-worker.sh keeps next to its worker cache.
 * The sink shares the SFU's 2 cores, so it should not pay NSS's per-packet cost either.
 */
function opensslLibsrtp(): string | undefined {
  const root = process.env.LECTERN_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lectern');
  const dir = join(root, 'libsrtp2-openssl');
  return existsSync(join(dir, 'lib', 'libsrtp2.a')) ? dir : undefined;
}

let binary: NativeSinkBinary | null | undefined;

/**
 * How often the C sink reads its sockets, in microseconds. Reading on a timer rather than sleeping in
 * epoll_wait keeps the SFU from paying a receiver wake-up per packet, which loopback charges to the
 * sender (see udp-sink.c); 0 wakes the sink for every packet. Latency comes from kernel receive
 * timestamps either way, so this interval does not add to it.
 */
export const nativeSinkSettings = { readIntervalMicros: 1000 };

function compile(out: string, defines: string[], libraries: string[]): boolean {
  if (existsSync(out)) return true;
  try {
    execFileSync('cc', ['-O2', ...defines, '-o', out, SOURCE, ...libraries], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The compiled sink, compiling it if needed (with SRTP when libsrtp2 is there); null without a C compiler. */
export function nativeSinkBinary(): NativeSinkBinary | null {
  if (binary !== undefined) return binary;
  if (process.env.BENCH_NODE_SINK === '1') return (binary = null);
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'lectern-bench');
  mkdirSync(dir, { recursive: true });
  if (process.env.BENCH_NO_SRTP !== '1') {
    const openssl = opensslLibsrtp();
    const withOpenssl = join(dir, `udp-sink-srtp-ossl-${hash}`);
    if (openssl && compile(withOpenssl, ['-DLECTERN_SRTP', `-I${join(openssl, 'include')}`], [join(openssl, 'lib', 'libsrtp2.a'), '-lcrypto']))
      return (binary = { path: withOpenssl, srtp: 'libsrtp2/OpenSSL' });
    const withNss = join(dir, `udp-sink-srtp-${hash}`);
    if (compile(withNss, ['-DLECTERN_SRTP'], ['-lsrtp2'])) return (binary = { path: withNss, srtp: 'libsrtp2/NSS' });
  }
  const plain = join(dir, `udp-sink-${hash}`);
  return (binary = compile(plain, [], []) ? { path: plain, srtp: false } : null);
}

/** A running native sink process. */
export class NativeUdpSink {
  readonly ports: number[];
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  /** Start the sink with `sockets` sockets on 127.0.0.1. */
  static async create(path: string, sockets: number): Promise<NativeUdpSink> {
    const child = spawn(path, [String(sockets), String(nativeSinkSettings.readIntervalMicros)], { stdio: ['pipe', 'pipe', 'pipe'] });
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

  /** Decrypt `ssrc` with this SRTP suite and key (base64 key + salt, as mediasoup gives them). */
  async addSrtpStream(ssrc: number, suite: string, keyBase64: string): Promise<void> {
    const reply = await this.#command(`srtp ${ssrc} ${suite} ${Buffer.from(keyBase64, 'base64').toString('hex')}`);
    if (reply !== 'ok') throw new Error(`udp-sink: ${reply}`);
  }

  /** Counts for the current window. */
  async report(): Promise<NativeReport> {
    const [, received, streams, min, max, rcvbuf, srtpFailures, ...buckets] = (await this.#command('report')).split(' ');
    return {
      received: Number(received),
      streams: Number(streams),
      minPerStream: Number(min),
      maxPerStream: Number(max),
      recvBufferBytes: Number(rcvbuf),
      srtpFailures: Number(srtpFailures),
      buckets: buckets.map((b) => b.split(':').map(Number) as [number, number]),
    };
  }

  /** Window packets per SSRC seen in the window (an SSRC absent got nothing). */
  async streamCounts(): Promise<Map<number, number>> {
    const [, ...pairs] = (await this.#command('streams')).split(' ');
    return new Map(pairs.map((p) => p.split(':').map(Number) as [number, number]));
  }

  /** Stop the process. */
  close(): void {
    this.#lines.close();
    this.#child.stdin.end('quit\n');
    this.#child.kill();
  }
}
