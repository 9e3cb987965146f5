// Main-thread handle on a sink thread (see sinkThread.ts).
import { Worker } from 'node:worker_threads';
import type { SinkReply, SinkReport, SinkRequest } from './sinkProtocol.js';
import { NativeUdpSink, nativeSinkBinary, nativeSinkSettings } from './NativeUdpSink.js';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Op<R extends SinkRequest = SinkRequest> = R extends unknown ? Omit<R, 'id'> : never;

/**
 * A counting RTP sink: werift peers and (without a C compiler) plain sockets on a thread, plain and
 * SRTP sockets in the C sink otherwise.
 */
export class Sink {
  readonly #worker: Worker;
  readonly #native: NativeUdpSink[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  /** Start the sink thread. */
  static async create(): Promise<Sink> {
    // Worker threads do not inherit tsx's loader hooks on Node 20: bootstrap the thread through tsx's API.
    const entry = new URL('./sinkThread.ts', import.meta.url).href;
    const bootstrap = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(bootstrap, { eval: true });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new Sink(worker);
  }

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: SinkReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(new Error(`sink: ${reply.error}`));
    });
    worker.on('error', (error) => {
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    });
  }

  #call<T>(op: Op): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ ...op, id });
    });
  }

  /** Which sink counts plain-RTP subscribers. */
  get plainSinkKind(): string {
    const native = nativeSinkBinary();
    if (!native) return 'Node dgram sink';
    const reads = nativeSinkSettings.readIntervalMicros ? `reads every ${nativeSinkSettings.readIntervalMicros} µs` : 'wakes per packet';
    return `C sink (recvmmsg, ${reads}, kernel receive timestamps${native.srtp ? `, ${native.srtp}` : ''})`;
  }

  /** Whether the sink can take SRTP subscribers (the C sink built against libsrtp2). */
  static get srtpCapable(): boolean {
    return !!nativeSinkBinary()?.srtp;
  }

  /** Open plain UDP sockets on 127.0.0.1; returns their ports. */
  async openPlain(sockets: number): Promise<{ ports: number[]; recvBufferBytes: number }> {
    const native = nativeSinkBinary();
    if (!native) return this.#call({ op: 'openPlain', sockets });
    const sink = await NativeUdpSink.create(native.path, sockets);
    this.#native.push(sink);
    return { ports: sink.ports, recvBufferBytes: (await sink.report()).recvBufferBytes };
  }

  /** Decrypt `ssrc` arriving on `port` (one of openPlain's) with an SRTP key from mediasoup. */
  async addSrtpStream(port: number, ssrc: number, suite: string, keyBase64: string): Promise<void> {
    const owner = this.#native.find((n) => n.ports.includes(port));
    if (!owner || !nativeSinkBinary()?.srtp) throw new Error('SRTP needs the C sink built with libsrtp2 (apt-get install libsrtp2-dev)');
    await owner.addSrtpStream(ssrc, suite, keyBase64);
  }

  /** Create a werift subscriber for an SDP offer; returns the answer (with candidates). */
  subscribe(offer: string): Promise<string> {
    return this.#call({ op: 'subscribe', offer });
  }

  /** Count only packets whose generator counter is in [start, end); resets the counts. */
  async setWindow(start: number, end: number): Promise<void> {
    await Promise.all([this.#call({ op: 'window', start, end }), ...this.#native.map((n) => n.setWindow(start, end))]);
  }

  /** Counts for the current window, over the thread and the native sinks. */
  async report(): Promise<SinkReport> {
    const report = await this.#call<SinkReport>({ op: 'report' });
    for (const native of this.#native) {
      const n = await native.report();
      if (n.streams > 0) {
        report.minPerStream = report.streams > 0 ? Math.min(report.minPerStream, n.minPerStream) : n.minPerStream;
        report.maxPerStream = Math.max(report.maxPerStream, n.maxPerStream);
      }
      report.received += n.received;
      report.streams += n.streams;
      report.recvBufferBytes = n.recvBufferBytes;
      report.srtpFailures += n.srtpFailures;
      for (const [bucket, count] of n.buckets) report.histogram[bucket]! += count;
    }
    return report;
  }

  /** Close sockets and peers and stop the thread. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const native of this.#native.splice(0)) native.close();
    await this.#call({ op: 'close' }).catch(() => undefined);
    await this.#worker.terminate();
  }
}
