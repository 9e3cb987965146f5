// Main-thread handle on a sink thread (see sinkThread.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { SinkReport, SinkRequest } from './sinkProtocol.js';
import { BenchThread } from './thread.js';
import { NativeUdpSink, nativeSinkBinary, nativeSinkSettings } from './NativeUdpSink.js';

/**
 * A counting RTP sink: werift peers and (without a C compiler) plain sockets on a thread, plain and
 * SRTP sockets in the C sink otherwise.
 */
export class Sink {
  readonly #thread: BenchThread<SinkRequest>;
  readonly #native: NativeUdpSink[] = [];
  #closed = false;

  /** Start the sink thread. */
  static async create(): Promise<Sink> {
    return new Sink(await BenchThread.start<SinkRequest>(new URL('./sinkThread.ts', import.meta.url), 'sink'));
  }

  private constructor(thread: BenchThread<SinkRequest>) {
    this.#thread = thread;
  }

  #call<T>(request: SinkRequest): Promise<T> {
    return this.#thread.call<T>(request);
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

  /**
   * Counts for the current window once the last packets have arrived: a sink that fell behind is
   * slow, not lossy, so wait until the count stops growing, reaches `expected`, or 5 s have passed.
   */
  async settledReport(expected: number): Promise<SinkReport> {
    let report = await this.report();
    const deadline = Date.now() + 5000;
    for (;;) {
      await sleep(300);
      const next = await this.report();
      const settled = next.received === report.received;
      report = next;
      if (settled || report.received >= expected || Date.now() > deadline) return report;
    }
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

  /** Window packets per SSRC over the C sinks (plain and SRTP subscribers): who received what. */
  async streamCounts(): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for (const native of this.#native) for (const [ssrc, n] of await native.streamCounts()) counts.set(ssrc, (counts.get(ssrc) ?? 0) + n);
    return counts;
  }

  /** Close sockets and peers and stop the thread. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const native of this.#native.splice(0)) native.close();
    await this.#call({ op: 'close' }).catch(() => undefined);
    await this.#thread.terminate();
  }
}
