// A recorder's tap on one producer: a PlainTransport on 127.0.0.1 (comedia off: the SFU sends to
// the relay's port, never waits for the recorder to speak first) and a consumer on it, received by
// a UDP socket of this process that relays the packets on to the muxer. The relay is what lets the
// recorder know what the muxer got: where the first keyframe starts (so the segment begins on a
// decodable frame, at a known wall-clock instant), sequence gaps (to ask for a keyframe), and the
// RTCP sender reports (the sender-clock mapping) - without the muxer having to report anything.
import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';
import { TypedEmitter } from '../TypedEmitter.js';
import type { TrackConsumer, TrackProducer } from '../Track.js';
import { isKeyFrameStart, rtcpSenderReport, rtpSequence, rtpTimestamp, isRtcp } from './rtp.js';

/** Where a relayed packet goes. */
export interface RelayTarget {
  rtpPort: number;
  rtcpPort: number;
}

/** A sender report as seen on the tap. */
export interface SenderReport {
  /** NTP time of the report in ms, on the reporter's clock (mediasoup: the worker's monotonic clock). */
  ntpMs: number;
  /** RTP timestamp at that instant. */
  rtpTimestamp: number;
}

/**
 * A sender report the producer received from its sender (mediasoup's 'sr' trace): the sender's
 * own NTP clock against the RTP timestamps it stamped, i.e. when each frame was captured. (The
 * reports the relay sees come from mediasoup's consumer: its clock and the arrival of packets.)
 */
export interface ProducerSenderReport {
  /** SSRC of the producer's stream the report is about. */
  ssrc: number;
  /** The sender's NTP time of the report, ms. */
  ntpMs: number;
  /** The RTP timestamp at that instant. */
  rtpTimestamp: number;
  /** When the report reached this process (ms since the epoch). */
  arrivedAt: number;
}

/** Events of a PlainTap. */
export type PlainTapEvents = {
  /** The first keyframe of the current target started: forwarding began with this packet. */
  started: [info: { arrivedAt: number; rtpTimestamp: number }];
  /** A sequence gap was seen (packets lost on the way in). */
  loss: [missing: number];
  /** An RTCP sender report arrived. */
  senderReport: [report: SenderReport];
  /** The producer received a sender report from its sender. */
  producerSenderReport: [report: ProducerSenderReport];
  /** The tap's source went away. */
  close: [reason: 'worker-died' | 'producer-closed' | 'room-closed' | 'closed'];
};

/** A consumer of one producer, relayed over loopback UDP to a muxer. */
export class PlainTap extends TypedEmitter<PlainTapEvents> {
  /** The consumer (its rtpParameters go into the muxer's SDP). */
  readonly consumer: TrackConsumer;
  /** The producer being recorded. */
  readonly producer: TrackProducer;
  readonly #transport: types.PlainTransport;
  readonly #socket: Socket;
  readonly #needsKeyFrame: boolean;
  #target: RelayTarget | undefined;
  #started = false;
  #lastSeq: number | undefined;
  #packets = 0;
  #frames = 0;
  #lastTimestamp: number | undefined;
  #lost = 0;
  #closed = false;

  /** Open a transport and a paused consumer of `producer` on `router`, relayed by a local socket. */
  static async create(router: types.Router, producer: TrackProducer): Promise<PlainTap> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    let transport: types.PlainTransport | undefined;
    try {
      transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
      await transport.connect({ ip: '127.0.0.1', port: socket.address().port });
      const consumer = await transport.consume<TrackProducer['appData']>({
        producerId: producer.id,
        rtpCapabilities: recorderCapabilities(router.rtpCapabilities, producer),
        paused: true,
        appData: { ...producer.appData },
      });
      // The producer's sender reports (its only trace type: nothing else enables traces on producers).
      await producer.enableTraceEvent(['sr']);
      return new PlainTap(router, producer, transport, consumer, socket);
    } catch (error) {
      transport?.close();
      socket.close();
      throw error;
    }
  }

  private constructor(router: types.Router, producer: TrackProducer, transport: types.PlainTransport, consumer: TrackConsumer, socket: Socket) {
    super();
    this.producer = producer;
    this.#transport = transport;
    this.consumer = consumer;
    this.#socket = socket;
    this.#needsKeyFrame = consumer.kind === 'video';
    socket.on('message', (packet) => this.#onPacket(packet));
    producer.on('trace', this.#onTrace);
    socket.on('error', () => undefined); // ICMP unreachable while the muxer restarts: nothing to do
    // The router learns of a dead worker before its transports and consumers close.
    // mediasoup closes a dead worker's transports (and so this consumer) before the router emits
    // 'workerclose', in the same tick: decide why the transport closed once that tick is over.
    let workerDied = false;
    const onWorkerClose = (): void => {
      workerDied = true;
      this.#close('worker-died');
    };
    router.once('workerclose', onWorkerClose);
    consumer.once('producerclose', () => this.#close('producer-closed'));
    consumer.once('transportclose', () => setImmediate(() => this.#close(workerDied ? 'worker-died' : router.closed ? 'room-closed' : 'closed')));
    consumer.observer.once('close', () => {
      // Deferred like 'transportclose' so the reason (worker died, room closed) wins over 'closed'.
      setImmediate(() => {
        router.off('workerclose', onWorkerClose);
        this.#close('closed');
      });
    });
  }

  /** RTP packets relayed to the current target. */
  get packets(): number {
    return this.#packets;
  }

  /** Frames relayed to the current target (RTP timestamps: the packets of one frame share one). */
  get frames(): number {
    return this.#frames;
  }

  /** Packets missing by sequence number since the current target was set. */
  get lost(): number {
    return this.#lost;
  }

  /** Whether the tap is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Relay to a (new) muxer from now on. Video waits for the start of a keyframe, so the muxer's
   * first frame is decodable and its timestamp 0 is the `started` instant. Resumes the consumer.
   */
  async relayTo(target: RelayTarget): Promise<void> {
    this.#target = target;
    this.#started = false;
    this.#lastSeq = undefined;
    this.#packets = 0;
    this.#frames = 0;
    this.#lastTimestamp = undefined;
    this.#lost = 0;
    await this.consumer.resume();
  }

  /** Stop relaying (the muxer is stopping); packets are dropped until relayTo() again. */
  detach(): void {
    this.#target = undefined;
  }

  /** Whether the current target has received its first frame. */
  get started(): boolean {
    return this.#started;
  }

  /** Ask the producer for a keyframe (no-op for audio or a closed tap). */
  async requestKeyFrame(): Promise<void> {
    if (this.#closed || !this.#needsKeyFrame) return;
    await this.consumer.requestKeyFrame().catch(() => undefined); // closed meanwhile
  }

  /** Close the transport and the socket. Idempotent. */
  close(): void {
    this.#close('closed');
  }

  #onPacket(packet: Buffer): void {
    const target = this.#target;
    if (!target || this.#closed) return;
    if (isRtcp(packet)) {
      const report = rtcpSenderReport(packet);
      if (report) this.emit('senderReport', report);
      this.#socket.send(packet, target.rtcpPort, '127.0.0.1');
      return;
    }
    const seq = rtpSequence(packet);
    if (seq === undefined) return;
    if (!this.#started) {
      if (this.#needsKeyFrame && !isKeyFrameStart(packet, this.consumer.rtpParameters.codecs[0]?.mimeType ?? '')) return;
      this.#started = true;
      this.emit('started', { arrivedAt: Date.now(), rtpTimestamp: rtpTimestamp(packet) ?? 0 });
    } else if (this.#lastSeq !== undefined) {
      const gap = (seq - this.#lastSeq - 1) & 0xffff;
      // A gap under half the sequence space is loss; above it, a late (reordered) packet.
      if (gap > 0 && gap < 0x8000) {
        this.#lost += gap;
        this.emit('loss', gap);
      }
    }
    if (this.#lastSeq === undefined || ((seq - this.#lastSeq) & 0xffff) < 0x8000) this.#lastSeq = seq;
    this.#packets++;
    const timestamp = rtpTimestamp(packet);
    if (timestamp !== this.#lastTimestamp) {
      this.#frames++;
      this.#lastTimestamp = timestamp;
    }
    this.#socket.send(packet, target.rtpPort, '127.0.0.1');
  }

  readonly #onTrace = (trace: types.ProducerTraceEventData): void => {
    if (trace.type !== 'sr' || this.#closed) return;
    const { ssrc, ntpSec, ntpFrac, rtpTs } = trace.info as { ssrc?: unknown; ntpSec?: unknown; ntpFrac?: unknown; rtpTs?: unknown };
    if (typeof ssrc !== 'number' || typeof ntpSec !== 'number' || typeof ntpFrac !== 'number' || typeof rtpTs !== 'number') return;
    this.emit('producerSenderReport', { ssrc, ntpMs: ntpSec * 1000 + (ntpFrac / 2 ** 32) * 1000, rtpTimestamp: rtpTs, arrivedAt: Date.now() });
  };

  #close(reason: 'worker-died' | 'producer-closed' | 'room-closed' | 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.producer.off('trace', this.#onTrace);
    this.#target = undefined;
    if (!this.#transport.closed) this.#transport.close();
    this.#socket.close();
    this.emit('close', reason);
  }
}

/**
 * The capabilities the recorder consumes with: only the producer's own codec, no RTX and no
 * header extensions. The muxer takes plain RTP of one payload type; nothing is transcoded.
 */
function recorderCapabilities(router: types.RtpCapabilities, producer: TrackProducer): types.RtpCapabilities {
  const mime = producer.rtpParameters.codecs[0]?.mimeType.toLowerCase();
  const codecs = (router.codecs ?? [])
    .filter((codec) => codec.mimeType.toLowerCase() === mime)
    .map((codec) => ({ ...codec, rtcpFeedback: (codec.rtcpFeedback ?? []).filter((fb) => fb.type === 'nack' && fb.parameter === 'pli') }));
  return { codecs, headerExtensions: [] };
}
