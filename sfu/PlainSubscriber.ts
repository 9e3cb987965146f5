// A subscriber that is not a browser: it receives a room's tracks over one PlainTransport (plain
// RTP, or SRTP when asked), sent to an address it names or, with comedia, to wherever its first
// packet came from. The bench's counting sinks and any other RTP receiver (a gateway, a remote
// monitor) take part in a room through it, placed, counted and admitted exactly like a browser:
// the room puts it on one of its routers by load (RoomMedia.addPlainSubscriber), so it spreads to
// another worker past the threshold, and a subscriber past capacity is refused `at_capacity`.
import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { SfuError, rejectedOnError } from './SfuError.js';
import { Subscription } from './Subscription.js';
import { trackProducer, type Track, type TrackAppData, type TrackConsumer, type TrackCounts, type TrackKind } from './Track.js';
import type { Subscriber, SubscriberEvents } from './Subscriber.js';
import type { RoomRouter } from './RoomRouter.js';
import { countedConsumer } from './countedConsumer.js';
import { preferLayerFor } from './layers.js';
import { TRANSPORT_WIDE_CC } from './bandwidthEstimation.js';

/** SRTP suites a PlainTransport can encrypt with (browsers settle on AEAD_AES_256_GCM). */
export type SrtpSuite = 'AEAD_AES_256_GCM' | 'AEAD_AES_128_GCM' | 'AES_CM_128_HMAC_SHA1_80';

/** Key lengths (master key + salt, bytes) of each suite. */
const KEY_BYTES: Record<SrtpSuite, number> = { AEAD_AES_256_GCM: 44, AEAD_AES_128_GCM: 28, AES_CM_128_HMAC_SHA1_80: 30 };

/** What a plain subscriber takes. */
export interface PlainSubscriberOptions {
  /** Encrypt what it is sent with SRTP in this suite; plain RTP when absent. */
  srtpSuite?: SrtpSuite | undefined;
  /** Kinds of track it receives (default audio and video). */
  kinds?: readonly TrackKind[] | undefined;
  /**
   * Have mediasoup run its bandwidth estimator for it, as for a browser (the transport-wide-cc
   * extension with transport-cc feedback; nothing answers it here): how the bench measures what
   * a browser's estimator costs a worker (CapacityOptions.estimatorPacketCost). Default off.
   */
  bandwidthEstimation?: boolean | undefined;
}

/**
 * Where its media goes: an address (RTP and RTCP multiplexed on one port), or `comedia` (to where
 * the receiver's first packet comes from). `srtpKeyBase64` is the key the receiver would encrypt its
 * own packets with; a receiver that sends nothing may leave it out (a random one is used).
 */
export type PlainRemote = ({ ip: string; port: number } | { comedia: true }) & { srtpKeyBase64?: string };

/** What the receiver needs: the SFU's address and, with SRTP, the key the SFU encrypts with. */
export interface PlainTransportInfo {
  ip: string;
  port: number;
  srtp?: { suite: SrtpSuite; keyBase64: string };
}

/**
 * The router a plain subscriber is placed on, as far as it needs one: a room's RoomRouter, or any
 * other router of a room on a pooled worker (an edge node's router for a home node's room).
 */
export type PlainSubscriberHost = Pick<RoomRouter, 'host' | 'placed' | 'ready' | 'router'>;

/** Set by the room when it adds the subscriber. */
export interface PlainSubscriberContext<H extends PlainSubscriberHost = RoomRouter> {
  /** Where the room puts it: asked once, at open(). */
  place: () => Promise<H>;
  /** Address the transport listens on (the media workers' listen IP). */
  listenIp: string;
}

/** A room subscriber over a PlainTransport. */
export class PlainSubscriber<H extends PlainSubscriberHost = RoomRouter> extends TypedEmitter<SubscriberEvents> implements Subscriber {
  /** Unique in its room. */
  readonly id: string;
  /** Whether mediasoup runs a bandwidth estimator for it (only when asked: PlainSubscriberOptions.bandwidthEstimation). */
  readonly estimatesBandwidth: boolean;
  readonly #options: PlainSubscriberOptions;
  readonly #context: PlainSubscriberContext<H>;
  readonly #kinds: ReadonlySet<TrackKind>;
  #host: H | undefined;
  #transport: types.PlainTransport | undefined;
  #opening: Promise<PlainTransportInfo> | undefined;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #consumers = new Map<string, TrackConsumer>();
  /** Tracks received or being subscribed to (registered before the worker is asked). */
  readonly #subscribedTracks = new Set<string>();
  #closed = false;

  /** Made by RoomMedia.addPlainSubscriber; not created directly. */
  constructor(id: string, options: PlainSubscriberOptions, context: PlainSubscriberContext<H>) {
    super();
    this.id = id;
    this.#options = options;
    this.#context = context;
    this.#kinds = new Set(options.kinds ?? ['audio', 'video']);
    this.estimatesBandwidth = options.bandwidthEstimation ?? false;
  }

  /** The router the room placed it on, once placed. */
  get placement(): H | undefined {
    return this.#host;
  }

  /** Index of the worker it receives from, once placed. */
  get workerIndex(): number | undefined {
    return this.#host?.host.index;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether its transport is open (after open()). */
  get receiving(): boolean {
    return this.#transport !== undefined && !this.#closed;
  }

  /** Its live subscriptions by id. */
  get subscriptions(): ReadonlyMap<string, Subscription> {
    return this.#subscriptions;
  }

  /**
   * Be placed on one of the room's routers and open the transport there, sending to `remote`.
   * Then RoomMedia.catchUp() gives it the room's tracks. Asked once; later calls get the same answer.
   */
  open(remote: PlainRemote): Promise<PlainTransportInfo> {
    if (this.#closed) return Promise.reject(new SfuError('closed', `subscriber ${this.id} is closed`));
    this.#opening ??= this.#open(remote);
    return this.#opening;
  }

  async #open(remote: PlainRemote): Promise<PlainTransportInfo> {
    const host = await this.#context.place();
    this.#host = host;
    if (this.#closed) {
      host.placed.delete(this);
      throw new SfuError('closed', `subscriber ${this.id} closed while being placed`);
    }
    const router = await host.ready();
    const suite = this.#options.srtpSuite;
    const comedia = 'comedia' in remote;
    const transport = await rejectedOnError('plain transport', () =>
      router.createPlainTransport({
        listenInfo: { protocol: 'udp', ip: this.#context.listenIp },
        rtcpMux: true,
        comedia,
        ...(suite ? { enableSrtp: true, srtpCryptoSuite: suite } : {}),
      }),
    );
    if (this.#closed) {
      transport.close();
      throw new SfuError('closed', `subscriber ${this.id} closed while opening its transport`);
    }
    try {
      // mediasoup needs the remote's key to accept SRTP even from a receiver that never sends media.
      const srtpParameters = suite ? { cryptoSuite: suite, keyBase64: remote.srtpKeyBase64 ?? randomBytes(KEY_BYTES[suite]).toString('base64') } : undefined;
      await rejectedOnError('plain connect', () =>
        transport.connect({ ...(comedia ? {} : { ip: remote.ip, port: remote.port }), ...(srtpParameters ? { srtpParameters } : {}) }),
      );
    } catch (error) {
      transport.close();
      throw error;
    }
    this.#transport = transport;
    host.host.senders.add(transport);
    transport.observer.once('close', () => {
      host.host.senders.delete(transport);
      this.#transport = undefined;
    });
    return {
      ip: transport.tuple.localAddress ?? transport.tuple.localIp,
      port: transport.tuple.localPort,
      ...(suite && transport.srtpParameters ? { srtp: { suite, keyBase64: transport.srtpParameters.keyBase64 } } : {}),
    };
  }

  /** Subscriptions held, or every track of its kinds it is due to get. */
  expectedSubscriptions(tracks: TrackCounts): number {
    let due = 0;
    for (const kind of this.#kinds) due += tracks[kind];
    return Math.max(this.#subscribedTracks.size, due);
  }

  /** Every track of its kinds. */
  wants(track: Track): boolean {
    return this.#kinds.has(track.kind);
  }

  /** Whether it receives `trackId`, or a subscription to it is being made. */
  subscribes(trackId: string): boolean {
    return this.#subscribedTracks.has(trackId);
  }

  /**
   * A paused consumer of the track on the transport: bare media (the codec alone, no RTX, no
   * header extensions), which any RTP receiver can take. The owner resumes it once it can receive
   * it (an SRTP receiver has the SSRC's key).
   */
  async subscribe(track: Track): Promise<Subscription> {
    this.#assertOpen();
    const transport = this.#transport;
    const router = this.#host?.router;
    if (!transport || !router) throw new SfuError('no_recv_transport', `subscriber ${this.id} has not opened its transport`);
    if (this.#subscribedTracks.has(track.id)) throw new SfuError('rejected', `already consuming track ${track.id}`);
    const rtpCapabilities = bareCapabilities(router.rtpCapabilities, trackProducer(track).rtpParameters, this.estimatesBandwidth);
    if (!router.canConsume({ producerId: track.id, rtpCapabilities })) throw new SfuError('cannot_consume', `cannot send ${track.kind} track ${track.id} as plain RTP`);
    const consumer = await countedConsumer(
      this.#host!.host,
      this.#subscribedTracks,
      track.id,
      () =>
        rejectedOnError('consume', () =>
          transport.consume<TrackAppData>({ producerId: track.id, rtpCapabilities, paused: true, appData: { source: track.source, peerId: track.peerId } }),
        ),
      (made) => made,
      { router: this.#host, kind: track.kind, estimates: this.estimatesBandwidth },
    );
    const subscription = new Subscription(consumer);
    this.#consumers.set(consumer.id, consumer);
    this.#subscriptions.set(consumer.id, subscription);
    consumer.on('producerpause', () => this.emit('trackPaused', subscription));
    consumer.on('producerresume', () => this.emit('trackResumed', subscription));
    consumer.observer.once('close', () => {
      this.#consumers.delete(consumer.id);
      this.#subscriptions.delete(consumer.id);
      this.emit('unsubscribed', subscription);
    });
    if (this.#closed || consumer.closed) {
      consumer.close();
      throw new SfuError('closed', `subscriber ${this.id} closed while consuming`);
    }
    return subscription;
  }

  /** Stop receiving one subscription. */
  unsubscribe(subscriptionId: string): void {
    this.#consumer(subscriptionId).close();
  }

  /** Stop media on a subscription without ending it. */
  async pause(subscriptionId: string): Promise<void> {
    await this.#consumer(subscriptionId).pause();
  }

  /** Let media flow on a subscription. */
  async resume(subscriptionId: string): Promise<void> {
    await this.#consumer(subscriptionId).resume();
  }

  /** Cap a simulcast subscription at the layer that fits `height` pixels. */
  preferLayer(subscriptionId: string, height: number): Promise<number> {
    return preferLayerFor(this.#consumer(subscriptionId), height);
  }

  /** Close the transport (and so every subscription) and leave the router. Idempotent; emits `close` once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport?.close();
    this.#host?.placed.delete(this);
    this.emit('close');
  }

  #consumer(id: string): TrackConsumer {
    this.#assertOpen();
    const consumer = this.#consumers.get(id);
    if (!consumer) throw new SfuError('not_found', `no subscription ${id}`);
    return consumer;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('closed', `subscriber ${this.id} is closed`);
  }
}

/**
 * The router's codec matching the track's, with its RTCP feedback (NACK, PLI) but no RTX, and no
 * header extensions: what a plain RTP receiver decodes without negotiating anything. With
 * `estimation`, the transport-wide-cc extension too, which starts mediasoup's estimator.
 */
function bareCapabilities(router: types.RtpCapabilities, track: types.RtpParameters, estimation: boolean): types.RtpCapabilities {
  const mime = track.codecs[0]?.mimeType.toLowerCase();
  const headerExtensions = estimation ? (router.headerExtensions ?? []).filter((e) => e.uri === TRANSPORT_WIDE_CC) : [];
  return { codecs: (router.codecs ?? []).filter((c) => c.mimeType.toLowerCase() === mime), headerExtensions };
}
