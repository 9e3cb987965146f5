// Lectern's SFU set up for a lecture through the product's own media plane: one room
// (Sfu.createRoomMedia), the plain-RTP generator publishing VP8 + opus into it through the
// product's PlainPublisher, and subscribers added to it as the product adds them: plain ones
// (RoomMedia.addPlainSubscriber: PlainTransports, SRTP or not, into the counting sink) or WebRTC
// ones (RoomMedia.addPeer, the browser path, into werift peers). Which worker each subscriber lands
// on, when the room spreads to the second worker and pipes its tracks there, and who is refused
// `at_capacity`, are the product's placement and admission, configured by `capacity`.
import { Sfu, SfuError, DEFAULT_CAPACITY, TRANSPORT_WIDE_CC, type CapacityOptions, type PlainPublisher, type RoomMedia, type SrtpSuite, type Subscription, type Track } from '../../sfu/index.js';
import type { FanoutTarget, SubscriberKind } from '../lib/FanoutTarget.js';
import type { Sink } from '../lib/Sink.js';
import { pinToCpu, waitForExit } from '../lib/proc.js';
import { AUDIO_SSRC, OPUS_PAYLOAD_TYPE, VIDEO_SSRC, VP8_PAYLOAD_TYPE } from '../lib/rtpPackets.js';
import { answerDtlsParameters, consumerOffer } from './sdp.js';

export type { SrtpSuite } from '../../sfu/index.js';

/** Subscribers per sink socket for plain-RTP consumers. */
const SUBSCRIBERS_PER_SOCKET = 25;

// What Janus 1.1's streaming plugin offers its viewers (read from its SDP): mid and abs-send-time.
// Its offer lists transport-cc feedback but not the transport-wide-cc header extension, so no
// transport-cc feedback ever flows to Janus, and Janus estimates no viewer's bandwidth; neither does
// the pion SFU. mediasoup runs its per-transport estimator (libwebrtc's send-side controller and
// pacer, fed by every packet sent) as soon as a consumer has abs-send-time with goog-remb feedback
// (REMB-based) or transport-wide-cc with transport-cc feedback. So by default Lectern's WebRTC
// subscribers keep abs-send-time in the packets, as Janus stamps it, but are offered no estimator
// feedback; `estimator` turns one on, to measure what it costs.
const WEBRTC_EXTENSIONS = ['urn:ietf:params:rtp-hdrext:sdes:mid', 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'];
/** What a WebRTC subscriber is offered per estimator: header extensions, and the estimator feedback left out. */
const OFFER: Record<Estimator, { extensions: ReadonlySet<string>; withoutFeedback: readonly string[] }> = {
  none: { extensions: new Set(WEBRTC_EXTENSIONS), withoutFeedback: ['goog-remb', 'transport-cc'] },
  remb: { extensions: new Set(WEBRTC_EXTENSIONS), withoutFeedback: ['transport-cc'] },
  'transport-cc': { extensions: new Set([...WEBRTC_EXTENSIONS, TRANSPORT_WIDE_CC]), withoutFeedback: [] },
};

/** The per-subscriber bandwidth estimator mediasoup runs for WebRTC subscribers. */
export type Estimator = 'none' | 'remb' | 'transport-cc';

/**
 * A capacity admission never refuses and placement never counts as full: for measuring what one
 * worker carries before it loses packets (the capacity scenario), which is where the product's
 * defaults come from.
 */
export const UNBOUNDED_CAPACITY: Partial<CapacityOptions> = { packetsPerWorker: 1e12, consumersPerWorker: 1e9, sendBitratePerWorker: 1e15, cpuCeiling: 1e9 };

/** Options for a Lectern fan-out. */
export interface LecternFanoutOptions {
  /** Media workers (default 2, the product's one per core here). */
  workers?: number;
  /** The product's capacity and spread threshold (default: the product's defaults). */
  capacity?: Partial<CapacityOptions>;
  /** Pin worker i to CPU i (taskset), so the kernel never moves a worker between cores. */
  pin?: boolean;
  /** SRTP suite of 'srtp' subscribers (default AEAD_AES_256_GCM, what browsers get). */
  srtpSuite?: SrtpSuite;
  /** Bandwidth estimation per WebRTC subscriber (default 'none', as Janus and pion): 'remb' offers
   * goog-remb feedback, 'transport-cc' also the transport-wide-cc extension (what browsers get).
   * Plain subscribers get transport-cc's for anything but 'none'. */
  estimator?: Estimator;
  /** Let the workers send through io_uring where built with it (default true, as the product). */
  ioUring?: boolean;
}

/** What one addSubscribers call got from the product's admission. */
export interface Admitted {
  admitted: number;
  /** Refused `at_capacity` (nothing else is caught). */
  refused: number;
}

/** Lectern's SFU under fan-out load, through the product's media plane. */
export class LecternFanout implements FanoutTarget {
  readonly name = 'lectern';
  readonly publisher: FanoutTarget['publisher'];
  readonly #sfu: Sfu;
  readonly #room: RoomMedia;
  readonly #srtpSuite: SrtpSuite;
  readonly #estimator: Estimator;
  readonly #flags: string;
  #added = 0;
  #closed = false;

  /** Start a fresh Sfu, one room, and the generator's publisher in it. */
  static async create(options: LecternFanoutOptions): Promise<LecternFanout> {
    const sfu = await Sfu.create({
      workers: options.workers ?? 2,
      listenIp: '127.0.0.1',
      rtcPort: 0,
      logLevel: 'warn',
      ioUring: options.ioUring ?? true,
      maxIncomingBitrate: 3_000_000,
      initialAvailableOutgoingBitrate: 1_000_000,
      respawn: false,
      capacity: { ...DEFAULT_CAPACITY, ...options.capacity },
    });
    try {
      const workers = sfu.pool.workers;
      const pinned = !!options.pin && workers.every((w, i) => pinToCpu(w.worker.pid, i));
      if (options.pin && !pinned) throw new Error('could not pin the workers (taskset missing?)');
      // A worker reports liburing stats only when it really sends through io_uring.
      const ioUring = (await workers[0]!.worker.dump()).liburing !== undefined;
      const room = await sfu.createRoomMedia('lecture');
      const { target } = await publishGenerator(room);
      const flags = (pinned ? ', pinned' : '') + (ioUring ? ', io_uring' : '') + (options.estimator && options.estimator !== 'none' ? `, ${options.estimator} estimator` : '');
      return new LecternFanout(sfu, room, { video: target, audio: target }, flags, options);
    } catch (error) {
      sfu.close();
      throw error;
    }
  }

  private constructor(sfu: Sfu, room: RoomMedia, publisher: FanoutTarget['publisher'], flags: string, options: LecternFanoutOptions) {
    this.#sfu = sfu;
    this.#room = room;
    this.#srtpSuite = options.srtpSuite ?? 'AEAD_AES_256_GCM';
    this.#estimator = options.estimator ?? 'none';
    this.#flags = flags;
    this.publisher = publisher;
  }

  /** Where the product placed the room: how many workers it spans (with pipes between them). */
  get layout(): string {
    const spans = this.#room.workerIndexes.length;
    const of = this.#sfu.pool.workers.length;
    return `product placement: ${spans} of ${of} worker${of > 1 ? 's' : ''}${spans > 1 ? ' + pipes' : ''}${this.#flags}`;
  }

  /** The mediasoup worker processes. */
  get pids(): number[] {
    return this.#sfu.pool.workers.map((w) => w.worker.pid);
  }

  /** The Sfu (for per-worker load in the ramp). */
  get sfu(): Sfu {
    return this.#sfu;
  }

  /** Add subscribers through the product; those its admission refuses `at_capacity` are counted, not added. */
  async addSubscribers(count: number, kind: SubscriberKind, sink: Sink): Promise<Admitted> {
    const plain = kind !== 'webrtc';
    const ports = plain ? (await sink.openPlain(Math.ceil(count / SUBSCRIBERS_PER_SOCKET))).ports : [];
    const batch = plain ? 50 : 10;
    const result: Admitted = { admitted: 0, refused: 0 };
    for (let first = 0; first < count; first += batch) {
      const jobs: Promise<boolean>[] = [];
      for (let i = first; i < Math.min(count, first + batch); i++) {
        const id = `s${this.#added + i}`;
        jobs.push(plain ? this.#addPlain(id, ports[i % ports.length]!, kind === 'srtp', sink) : this.#addWebRtc(id, sink));
      }
      for (const admitted of await Promise.all(jobs)) result[admitted ? 'admitted' : 'refused']++;
    }
    this.#added += count;
    return result;
  }

  /** A PlainTransport subscriber into a sink socket; false when the product refuses it at capacity. */
  async #addPlain(id: string, sinkPort: number, srtp: boolean, sink: Sink): Promise<boolean> {
    let subscriber;
    try {
      subscriber = this.#room.addPlainSubscriber(id, { ...(srtp ? { srtpSuite: this.#srtpSuite } : {}), bandwidthEstimation: this.#estimator !== 'none' });
    } catch (error) {
      if (error instanceof SfuError && error.reason === 'at_capacity') return false;
      throw error;
    }
    const info = await subscriber.open({ ip: '127.0.0.1', port: sinkPort });
    await this.#room.catchUp(id);
    // Subscriptions start paused; SRTP ones flow once the sink holds their key, so no packet is undecryptable.
    for (const subscription of subscriber.subscriptions.values()) {
      if (info.srtp) await sink.addSrtpStream(sinkPort, ssrcOf(subscription), this.#srtpSuite, info.srtp.keyBase64);
      await subscriber.resume(subscription.id);
    }
    return true;
  }

  /**
   * A WebRTC subscriber the way a browser is one (RoomMedia.addPeer, a receive transport on the
   * worker's WebRtcServer), answered by a werift peer. Bare media for the comparison: what a Janus
   * streaming viewer is offered (RTX for video, mid and abs-send-time).
   */
  async #addWebRtc(id: string, sink: Sink): Promise<boolean> {
    const peer = this.#room.addPeer(id);
    const transport = await peer.createTransport('recv');
    const all = this.#room.rtpCapabilities;
    const vp8 = all.codecs?.find((c) => c.mimeType === 'video/VP8');
    const offer = OFFER[this.#estimator];
    peer.receiveWith({
      codecs: (all.codecs ?? [])
        .filter((c) => c.mimeType === 'audio/opus' || c === vp8 || (c.mimeType === 'video/rtx' && c.parameters?.apt === vp8?.preferredPayloadType))
        .map((c) => ({ ...c, rtcpFeedback: (c.rtcpFeedback ?? []).filter((fb) => !offer.withoutFeedback.includes(fb.type)) })),
      headerExtensions: (all.headerExtensions ?? []).filter((e) => offer.extensions.has(e.uri)),
    });
    await this.#room.catchUp(id);
    const subscriptions = [...peer.subscriptions.values()];
    const answer = await sink.subscribe(consumerOffer(transport, subscriptions));
    await peer.connectTransport(transport.id, answerDtlsParameters(answer));
    for (const subscription of subscriptions) await peer.attach(subscription.id);
    return true;
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

/** The SSRC a subscription is sent with. */
function ssrcOf(subscription: Subscription): number {
  return subscription.rtpParameters.encodings![0]!.ssrc!;
}

/** The generator's VP8 and opus as the product's plain publisher's tracks, fanned out by the room. */
export async function publishGenerator(room: RoomMedia): Promise<{ publisher: PlainPublisher; video: Track; audio: Track; target: { host: string; port: number } }> {
  const publisher = room.addPlainPublisher('generator');
  const { ip, port } = await publisher.open();
  const video = await publisher.publish(
    'video',
    {
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
    'camera',
  );
  const audio = await publisher.publish(
    'audio',
    { codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PAYLOAD_TYPE, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: AUDIO_SSRC }] },
    'microphone',
  );
  await Promise.all([room.distribute(video), room.distribute(audio)]);
  return { publisher, video, audio, target: { host: ip, port } };
}
