// The bench's pion SFU (bench/pion/main.go) as a child process: built offline from Debian's Go
// sources by bench/pion/build.sh (cached), started on 127.0.0.1, and driven over its small HTTP
// signalling API (the SFU offers, the subscriber answers, as Janus does).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('./build.sh', import.meta.url));

/** Whether pion answers NACKs from its own per-subscriber buffer (its default interceptors) or runs with none. */
export type PionNackMode = 'nack' | 'no-nack';

// Built once per bench process; a failure is remembered so every scenario gets the same message.
let buildFailure: string | undefined;
let builtBinary: string | undefined;

/**
 * Build (or find in the cache) the pion SFU binary; returns its path. Throws with the build
 * script's message (what is missing, or the compiler's log) when it cannot be built.
 */
export function pionSfuBinary(): string {
  if (builtBinary) return builtBinary;
  if (buildFailure) throw new Error(buildFailure);
  const result = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8' });
  const path = result.stdout?.trim().split('\n').at(-1);
  if (result.status !== 0 || !path) {
    const why = (result.stderr || result.error?.message || `exit ${result.status}`).trim();
    buildFailure = `the pion SFU could not be built (bash bench/pion/build.sh):\n${why}`;
    throw new Error(buildFailure);
  }
  builtBinary = path;
  return path;
}

/** What the SFU prints when it is ready. */
interface ReadyLine {
  http: number;
  video: number;
  audio: number;
}

function parseReady(line: string): ReadyLine {
  const value: unknown = JSON.parse(line);
  const port = (key: keyof ReadyLine): number => {
    const v = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    if (typeof v !== 'number') throw new Error(`pion-sfu: ready line without a numeric '${key}': ${line}`);
    return v;
  };
  return { http: port('http'), video: port('video'), audio: port('audio') };
}

/** A running pion SFU: where the publisher sends, and how to add a subscriber. */
export class PionServer {
  readonly videoPort: number;
  readonly audioPort: number;
  readonly #url: string;
  readonly #process: ChildProcess;
  #log = '';
  #closed = false;

  /** Build if needed, start the SFU and wait for its ready line. GOMAXPROCS is the Go runtime's thread limit. */
  static async create(mode: PionNackMode, options: { gomaxprocs?: number } = {}): Promise<PionServer> {
    const binary = pionSfuBinary();
    const env = { ...process.env, ...(options.gomaxprocs ? { GOMAXPROCS: String(options.gomaxprocs) } : {}) };
    const child = spawn(binary, [`-nack=${mode === 'nack'}`], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
    });
    const lines = createInterface({ input: child.stdout! });
    try {
      const ready = await new Promise<ReadyLine>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pion-sfu did not start within 10 s:\n${log}`)), 10_000);
        child.once('exit', (code, signal) => reject(new Error(`pion-sfu exited (${code ?? signal}):\n${log}`)));
        child.once('error', reject);
        lines.once('line', (line) => {
          clearTimeout(timer);
          try {
            resolve(parseReady(line));
          } catch (error) {
            reject(error as Error);
          }
        });
      });
      lines.close();
      return new PionServer(child, ready, log);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  private constructor(child: ChildProcess, ready: ReadyLine, log: string) {
    this.#process = child;
    this.#url = `http://127.0.0.1:${ready.http}`;
    this.videoPort = ready.video;
    this.audioPort = ready.audio;
    this.#log = log;
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-20_000);
    });
    child.stdout!.resume();
  }

  /** The SFU's process id. */
  get pid(): number {
    return this.#process.pid ?? 0;
  }

  /** The tail of the SFU's log (for error messages). */
  get log(): string {
    return this.#log;
  }

  /** Add a subscriber: the SFU's offer goes to `answer` (a WebRTC peer), whose answer goes back. */
  async subscribe(answer: (offer: string) => Promise<string>): Promise<void> {
    const response = await fetch(`${this.#url}/subscribers`, { method: 'POST' });
    if (!response.ok) throw new Error(`pion-sfu: subscribe failed (${response.status}): ${await response.text()}`);
    const body = (await response.json()) as Record<string, unknown>;
    if (typeof body.id !== 'string' || typeof body.sdp !== 'string') throw new Error('pion-sfu: subscribe reply without id and sdp');
    const sdp = await answer(body.sdp);
    const reply = await fetch(`${this.#url}/subscribers/${encodeURIComponent(body.id)}/answer`, { method: 'POST', body: sdp });
    if (!reply.ok) throw new Error(`pion-sfu: answer refused (${reply.status}): ${await reply.text()}`);
  }

  /** Stop the SFU (SIGTERM, SIGKILL after 5 s). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#process.once('exit', () => resolve()));
    this.#process.kill('SIGTERM');
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
