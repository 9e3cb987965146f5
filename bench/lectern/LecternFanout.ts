// Lectern's SFU set up for a lecture: one plain-RTP publisher (VP8 + opus) on worker 0, subscribers
// as PlainTransports (SRTP or not, into the counting sink) or WebRtcTransports on the pool's
// WebRtcServers (into werift peers). With `spread`, a second router on worker 1 gets the producers
// by pipeToRouter and every other subscriber, so both cores forward.
//
// RoomMedia keeps its router private and only makes WebRtcTransports for browsers, so this reaches
// the pool's mediasoup Workers directly with the room codecs; see bench/README.md for the API this
// would want in sfu/.
import { randomBytes } from 'node:crypto';
import { Sfu, roomMediaCodecs, type mediasoupTypes as types } from '../../sfu/index.js';
import type { FanoutTarget, SubscriberKind } from '../lib/FanoutTarget.js';
import type { Sink } from '../lib/Sink.js';
import { pinToCpu, waitForExit } from '../lib/proc.js';
import { AUDIO_SSRC, OPUS_PAYLOAD_TYPE, VIDEO_SSRC, VP8_PAYLOAD_TYPE } from '../lib/rtpPackets.js';
import { answerDtlsParameters, consumerOffer } from './sdp.js';

const LISTEN = { protocol: 'udp', ip: '127.0.0.1' } as const;
/** The suites the C sink decrypts; Chromium and mediasoup settle on AEAD_AES_256_GCM. */
export type SrtpSuite = 'AEAD_AES_256_GCM' | 'AEAD_AES_128_GCM' | 'AES_CM_128_HMAC_SHA1_80';
const KEY_BYTES: Record<SrtpSuite, number> = { AEAD_AES_256_GCM: 44, AEAD_AES_128_GCM: 28, AES_CM_128_HMAC_SHA1_80: 30 };
/** Subscribers per sink socket for plain-RTP consumers. */
const SUBSCRIBERS_PER_SOCKET = 25;

// What Janus 1.1's streaming plugin offers its viewers (read from its SDP): mid and abs-send-time.
// Its offer lists transport-cc feedback but not the transport-wide-cc header extension, so no
// transport-cc feedback ever flows to Janus. Lectern's WebRTC subscribers get the same by default;
// `transportCc` adds the extension, and with it mediasoup's per-subscriber congestion control.
const WEBRTC_EXTENSIONS = ['urn:ietf:params:rtp-hdrext:sdes:mid', 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'];
const TRANSPORT_CC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** Options for a Lectern fan-out. */
export interface LecternFanoutOptions {
  /** Put subscribers on both workers (pipeToRouter) instead of only the publisher's. */
  spread: boolean;
  /** Pin worker i to CPU i (taskset), so the kernel never moves a worker between cores. */
  pin?: boolean;
  /** SRTP suite of 'srtp' subscribers (default AEAD_AES_256_GCM, what browsers get). */
  srtpSuite?: SrtpSuite;
  /** Offer WebRTC subscribers transport-wide-cc (mediasoup then runs send-side BWE per subscriber). */
  transportCc?: boolean;
  /** Let the workers send through io_uring where built with it (default true, as the product). */
  ioUring?: boolean;
}

/** Lectern's SFU under fan-out load. */
export class LecternFanout implements FanoutTarget {
  readonly name = 'lectern';
  readonly layout: string;
  readonly publisher: FanoutTarget['publisher'];
  readonly #sfu: Sfu;
  readonly #routers: types.Router[];
  readonly #producers: types.Producer[];
  readonly #srtpSuite: SrtpSuite;
  readonly #webrtcExtensions: Set<string>;
  #added = 0;
  #closed = false;

  /** Start a fresh Sfu (2 workers), the routers and the publisher. */
  static async create(options: LecternFanoutOptions): Promise<LecternFanout> {
    const sfu = await Sfu.create({
      workers: 2,
      listenIp: '127.0.0.1',
      rtcPort: 0,
      logLevel: 'warn',
      ioUring: options.ioUring ?? true,
      maxIncomingBitrate: 3_000_000,
      initialAvailableOutgoingBitrate: 1_000_000,
    });
    try {
      const workers = sfu.pool.workers;
      const pinned = !!options.pin && workers.every((w, i) => pinToCpu(w.worker.pid, i));
      if (options.pin && !pinned) throw new Error('could not pin the workers (taskset missing?)');
      // A worker reports liburing stats only when it really sends through io_uring.
      const ioUring = (await workers[0]!.worker.dump()).liburing !== undefined;
      const routers = [await workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs })];
      if (options.spread) routers.push(await workers[1]!.worker.createRouter({ mediaCodecs: roomMediaCodecs }));
      const ingest = await routers[0]!.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: true });
      const video = await ingest.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [
            {
              mimeType: 'video/VP8',
              payloadType: VP8_PAYLOAD_TYPE,
              clockRate: 90000,
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
            },
          ],
          encodings: [{ ssrc: VIDEO_SSRC }],
        },
      });
      const audio = await ingest.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PAYLOAD_TYPE, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: AUDIO_SSRC }],
        },
      });
      for (const router of routers.slice(1)) {
        for (const producer of [video, audio]) await routers[0]!.pipeToRouter({ producerId: producer.id, router });
      }
      const target = { host: '127.0.0.1', port: ingest.tuple.localPort };
      return new LecternFanout(sfu, routers, [video, audio], { video: target, audio: target }, { pinned, ioUring }, options);
    } catch (error) {
      sfu.close();
      throw error;
    }
  }

  private constructor(
    sfu: Sfu,
    routers: types.Router[],
    producers: types.Producer[],
    publisher: FanoutTarget['publisher'],
    workers: { pinned: boolean; ioUring: boolean },
    options: LecternFanoutOptions,
  ) {
    this.#sfu = sfu;
    this.#srtpSuite = options.srtpSuite ?? 'AEAD_AES_256_GCM';
    this.#webrtcExtensions = new Set(options.transportCc ? [...WEBRTC_EXTENSIONS, TRANSPORT_CC] : WEBRTC_EXTENSIONS);
    this.#routers = routers;
    this.#producers = producers;
    this.publisher = publisher;
    this.layout =
      (routers.length > 1 ? `${routers.length} workers, pipeToRouter` : '1 worker') +
      (workers.pinned ? ', pinned' : '') +
      (workers.ioUring ? ', io_uring' : '') +
      (options.transportCc ? ', transport-cc' : '');
  }

  /** The mediasoup worker processes. */
  get pids(): number[] {
    return this.#sfu.pool.workers.map((w) => w.worker.pid);
  }

  /** Add subscribers, alternating routers when spread. */
  async addSubscribers(count: number, kind: SubscriberKind, sink: Sink): Promise<void> {
    const plain = kind !== 'webrtc';
    const ports = plain ? (await sink.openPlain(Math.ceil(count / SUBSCRIBERS_PER_SOCKET))).ports : [];
    const batch = plain ? 50 : 10;
    for (let first = 0; first < count; first += batch) {
      const jobs: Promise<void>[] = [];
      for (let i = first; i < Math.min(count, first + batch); i++) {
        const routerIndex = (this.#added + i) % this.#routers.length;
        jobs.push(plain ? this.#addPlain(routerIndex, ports[i % ports.length]!, kind === 'srtp', sink) : this.#addWebRtc(routerIndex, sink));
      }
      await Promise.all(jobs);
    }
    this.#added += count;
  }

  async #consumeAll(router: types.Router, transport: types.Transport, kind: SubscriberKind, paused = false): Promise<types.Consumer[]> {
    // Plain sinks get bare media (no RTX, no header extensions). WebRTC subscribers get what a
    // Janus streaming viewer is offered: RTX for video, mid and abs-send-time (WEBRTC_EXTENSIONS).
    const all = router.rtpCapabilities.codecs ?? [];
    const vp8 = all.find((c) => c.mimeType === 'video/VP8');
    const codecs = all.filter(
      (c) =>
        c.mimeType === 'audio/opus' ||
        c === vp8 ||
        (kind === 'webrtc' && c.mimeType === 'video/rtx' && c.parameters?.apt === vp8?.preferredPayloadType),
    );
    const rtpCapabilities: types.RtpCapabilities = {
      codecs,
      headerExtensions: kind === 'webrtc' ? (router.rtpCapabilities.headerExtensions ?? []).filter((e) => this.#webrtcExtensions.has(e.uri)) : [],
    };
    const consumers: types.Consumer[] = [];
    for (const producer of this.#producers) consumers.push(await transport.consume({ producerId: producer.id, rtpCapabilities, paused }));
    return consumers;
  }

  async #addPlain(routerIndex: number, sinkPort: number, srtp: boolean, sink: Sink): Promise<void> {
    const router = this.#routers[routerIndex]!;
    const transport = await router.createPlainTransport({
      listenInfo: LISTEN,
      rtcpMux: true,
      comedia: false,
      enableSrtp: srtp,
      srtpCryptoSuite: this.#srtpSuite,
    });
    // The sink never sends, but mediasoup needs our key to accept SRTP on this transport.
    const ourKey = { cryptoSuite: this.#srtpSuite, keyBase64: randomBytes(KEY_BYTES[this.#srtpSuite]).toString('base64') };
    await transport.connect({ ip: '127.0.0.1', port: sinkPort, ...(srtp ? { srtpParameters: ourKey } : {}) });
    // SRTP consumers start paused until the sink holds their key, so no packet is undecryptable.
    const consumers = await this.#consumeAll(router, transport, 'plain-rtp', srtp);
    if (!srtp) return;
    const { keyBase64 } = transport.srtpParameters!;
    for (const consumer of consumers) {
      await sink.addSrtpStream(sinkPort, consumer.rtpParameters.encodings![0]!.ssrc!, this.#srtpSuite, keyBase64);
      await consumer.resume();
    }
  }

  async #addWebRtc(routerIndex: number, sink: Sink): Promise<void> {
    const router = this.#routers[routerIndex]!;
    const host = this.#sfu.pool.workers[routerIndex]!;
    const transport = await router.createWebRtcTransport({
      webRtcServer: host.webRtcServer,
      enableUdp: true,
      enableTcp: false,
      initialAvailableOutgoingBitrate: 1_000_000,
    });
    const consumers = await this.#consumeAll(router, transport, 'webrtc');
    const answer = await sink.subscribe(consumerOffer(transport, consumers));
    await transport.connect({ dtlsParameters: answerDtlsParameters(answer) });
  }

  async ioUringFallbacks(): Promise<number | undefined> {
    const dumps = await Promise.all(this.#sfu.pool.workers.map((w) => w.worker.dump()));
    if (!dumps.some((d) => d.liburing)) return undefined;
    return dumps.reduce((n, d) => n + (d.liburing ? d.liburing.sqeMissCount + d.liburing.userDataMissCount : 0), 0);
  }

  /** Close the Sfu (workers, routers, transports). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pids = this.pids;
    this.#sfu.close();
    await Promise.all(pids.map((pid) => waitForExit(pid)));
  }
}
