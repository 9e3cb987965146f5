// One muxer process: Debian's ffmpeg reading plain RTP on two loopback ports (described by an SDP
// written to its stdin) and writing WebM/Matroska to its stdout, `-c copy`: nothing is decoded or
// re-encoded. Stopped by an RTCP BYE on its RTP port: its RTP demuxer ends the input there (end of
// file once every stream said BYE), so it flushes its last cluster and writes the trailer whether
// or not the source still sends (SIGINT alone needs one more packet: see stop()).
//
// Why ffmpeg rather than gst-launch: both stop cleanly (SIGINT / -e EOS), but ffmpeg takes the
// consumer's RTP description as a plain SDP on stdin and needs no caps string per codec, and its
// matroska muxer writes the same container to a pipe for all three codecs. Per-track files are
// aligned by the wall clock the relay measures (PlainTap), so rtpbin's inter-stream sync buys
// nothing here.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { types } from 'mediasoup';
import type { RecordedContainer } from './types.js';

/** How the muxer process ended. */
export interface MuxerExit {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  /** Signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  /** Whether it ended because stop() asked it to (and in time). */
  requested: boolean;
  /** The last lines ffmpeg wrote to stderr (for the error report). */
  stderrTail: string;
}

// How long ffmpeg may take to bind its ports, and to write its trailer after the stop. Generous:
// the machine may be loaded, and a slow start only costs a later first frame.
const BIND_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
// A BYE is a datagram: one that finds ffmpeg's socket buffer full (it lags on a loaded machine) is
// dropped, so it is sent again until ffmpeg exits; a late one after the end is never read.
const BYE_REPEAT_MS = 250;
// If ffmpeg has not ended on the BYEs by then, SIGINT as well (the next BYE wakes its read).
const SIGINT_AFTER_MS = 2_000;
/**
 * RTCP RR (no report blocks) + BYE, 16 bytes: ffmpeg's RTP demuxer ignores anything under 12 bytes
 * (an RTP header's size) before it looks for RTCP, so a lone 8-byte BYE would not count.
 */
const RTCP_BYE = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1, 0x81, 203, 0, 1, 0, 0, 0, 1]);
const STDERR_TAIL_BYTES = 4096;

/** A running ffmpeg muxing one RTP stream. */
export class FfmpegMuxer {
  /** Port ffmpeg receives RTP on (RTCP on the next one). */
  readonly rtpPort: number;
  /** The muxed container bytes. */
  readonly output: Readable;
  /** Resolves when ffmpeg has exited and closed its output. */
  readonly exited: Promise<MuxerExit>;
  readonly #child: ChildProcessByStdio<Writable, Readable, Readable>;
  #stopRequested = false;

  /** Start ffmpeg for a consumer's RTP parameters; resolves once it listens on its ports. */
  static async start(rtpParameters: types.RtpParameters, kind: types.MediaKind, container: RecordedContainer, ffmpegPath = 'ffmpeg'): Promise<FfmpegMuxer> {
    const rtpPort = await freePortPair();
    const args = [
      '-hide_banner', '-loglevel', 'warning', '-nostdin',
      '-protocol_whitelist', 'pipe,udp,rtp',
      // Bind the RTP/RTCP ports on loopback only: ffmpeg's default is every interface.
      '-localaddr', '127.0.0.1',
      '-f', 'sdp', '-i', 'pipe:0',
      '-map', '0', '-c', 'copy',
      '-f', container === 'webm' ? 'webm' : 'matroska',
      'pipe:1',
    ];
    const child = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const muxer = new FfmpegMuxer(child, rtpPort);
    child.stdin.on('error', () => undefined); // ffmpeg may exit before reading all of it
    child.stdin.end(sdp(rtpParameters, kind, rtpPort));
    try {
      await waitForUdpPort(rtpPort, muxer.exited);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return muxer;
  }

  private constructor(child: ChildProcessByStdio<Writable, Readable, Readable>, rtpPort: number) {
    this.#child = child;
    this.rtpPort = rtpPort;
    this.output = child.stdout;
    let tail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      tail = (tail + text).slice(-STDERR_TAIL_BYTES);
    });
    this.exited = new Promise<MuxerExit>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, requested: false, stderrTail: `${tail}${error.message}` }));
      child.once('close', (code, signal) => resolve({ code, signal, requested: this.#stopRequested && signal !== 'SIGKILL', stderrTail: tail }));
    });
  }

  /** Process id (tests kill it to check a crash is reported). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Ask ffmpeg to finish: it reads what is queued on its RTP socket, then the BYE ends its input
   * (end of file), and it writes its last cluster and the trailer. SIGKILL if it does not in time.
   * Send nothing more to it once this is called: what comes after the BYE is not muxed.
   *
   * Not SIGINT alone: ffmpeg acts on SIGINT only between two packets, so a source that died (its
   * worker was killed) left it waiting until the SIGKILL, and the file lost its last cluster; a
   * second SIGINT interrupts the read, but ffmpeg then exits at once without flushing.
   */
  async stop(): Promise<MuxerExit> {
    if (this.#child.exitCode === null && this.#child.signalCode === null && !this.#stopRequested) {
      this.#stopRequested = true;
      const socket = createSocket('udp4');
      socket.on('error', () => undefined); // ICMP unreachable once ffmpeg has gone: nothing to do
      const bye = (): void => socket.send(RTCP_BYE, this.rtpPort, '127.0.0.1', () => undefined);
      bye();
      const repeat = setInterval(bye, BYE_REPEAT_MS);
      const interrupt = setTimeout(() => this.#child.kill('SIGINT'), SIGINT_AFTER_MS);
      const kill = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      void this.exited.finally(() => {
        clearInterval(repeat);
        clearTimeout(interrupt);
        clearTimeout(kill);
        socket.close();
      });
    }
    return this.exited;
  }
}

/** The SDP ffmpeg reads: one m-line for the consumer's codec, RTCP on the next port. */
function sdp(rtpParameters: types.RtpParameters, kind: types.MediaKind, rtpPort: number): string {
  const codec = rtpParameters.codecs[0];
  if (!codec) throw new Error('consumer has no codec');
  const name = codec.mimeType.split('/')[1]!;
  const rtpmap = `${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`;
  const fmtp = Object.entries(codec.parameters ?? {}).map(([key, value]) => `${key}=${String(value)}`).join(';');
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=lectern-recorder',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=${kind} ${rtpPort} RTP/AVP ${codec.payloadType}`,
    `a=rtcp:${rtpPort + 1}`,
    `a=rtpmap:${codec.payloadType} ${rtpmap}`,
    ...(fmtp ? [`a=fmtp:${codec.payloadType} ${fmtp}`] : []),
    'a=recvonly',
    '',
  ].join('\r\n');
}

/** Two consecutive free UDP ports on 127.0.0.1 (RTP, RTCP). Another process may take one meanwhile: the window is short. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      first.once('error', reject);
      first.bind(0, '127.0.0.1', () => resolve(first.address().port));
    });
    const second = createSocket('udp4');
    const free = port < 65_535 && (await new Promise<boolean>((resolve) => {
      second.once('error', () => resolve(false));
      second.bind(port + 1, '127.0.0.1', () => resolve(true));
    }));
    await Promise.all([first, second].map((s) => new Promise<void>((resolve) => { try { s.close(() => resolve()); } catch { resolve(); } })));
    if (free) return port;
  }
  throw new Error('no free pair of UDP ports on 127.0.0.1');
}

/** Wait until some process has bound UDP `port` on 127.0.0.1 (Linux /proc/net/udp), or the muxer exited. */
async function waitForUdpPort(port: number, exited: Promise<MuxerExit>): Promise<void> {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let gone: MuxerExit | undefined;
  void exited.then((exit) => {
    gone = exit;
  });
  const deadline = Date.now() + BIND_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`ffmpeg exited before listening (code ${gone.code}, signal ${gone.signal}): ${gone.stderrTail.trim()}`);
    const table = await readFile('/proc/net/udp', 'utf8');
    if (table.split('\n').some((line) => line.trim().split(/\s+/)[1] === wanted)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`ffmpeg did not listen on UDP ${port} within ${BIND_TIMEOUT_MS} ms`);
}
