// One participant's media in one room: their WebRTC transports, what they send (producers) and
// what they receive (consumers). Ids handed in from the network are looked up only in this peer's
// own maps, so nobody can touch another participant's media by guessing an id.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { SfuError, rejectedOnError } from './SfuError.js';
import type { ConsumerGate } from './LoudestSpeakers.js';

/** Where a producer's track comes from; carried in appData so consumers can label tiles. */
export type TrackSource = 'microphone' | 'camera' | 'screen';

/** What Lectern records on every producer and its consumers. */
export type TrackAppData = { source: TrackSource; peerId: string };
/** A producer carrying Lectern's track data. */
export type TrackProducer = types.Producer<TrackAppData>;
/** A consumer carrying the data of the producer it mirrors. */
export type TrackConsumer = types.Consumer<TrackAppData>;

/** What a client needs to build its side of a transport. */
export interface TransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

/** Settings for this peer's transports. */
export interface PeerMediaOptions {
  webRtcServer: types.WebRtcServer;
  maxIncomingBitrate: number;
  initialAvailableOutgoingBitrate: number;
  /** Called with every audio producer, so the room can tell who is speaking. */
  onAudioProducer?: (producer: TrackProducer) => void;
  /** Where the room may also pause my consumers (audio of microphones it does not forward). */
  consumerGate?: ConsumerGate;
}

// Simulcast cameras send three layers at 1/4, 1/2 and full resolution of a nominal 720-line
// picture; a tile this many pixels high or less gets that layer.
const LAYER_MAX_HEIGHT = [180, 360];

/** Events of a PeerMedia. */
export type PeerMediaEvents = {
  /** The producer behind one of my consumers paused (sender muted). */
  consumerPaused: [consumer: TrackConsumer];
  /** ...and resumed. */
  consumerResumed: [consumer: TrackConsumer];
  /** One of my consumers closed because its producer or my transport went away. */
  consumerClosed: [consumer: TrackConsumer];
  /** One of my producers closed (by me, or because my transport closed). */
  producerClosed: [producer: TrackProducer];
  /** This peer's media is closed. Emitted once. */
  close: [];
};

/** A participant's transports, producers and consumers. */
export class PeerMedia extends TypedEmitter<PeerMediaEvents> {
  /** The participant this media belongs to. */
  readonly peerId: string;
  readonly #router: types.Router;
  readonly #options: PeerMediaOptions;
  readonly #transports = new Map<string, types.WebRtcTransport>();
  /** Transports being created: counted at once, so concurrent requests cannot overshoot a limit. */
  #creatingTransports = 0;
  readonly #producers = new Map<string, TrackProducer>();
  readonly #consumers = new Map<string, TrackConsumer>();
  /** Producers this peer consumes or is about to (registered before the worker is asked). */
  readonly #consumedProducers = new Set<string>();
  #recvTransport: types.WebRtcTransport | undefined;
  #closed = false;

  /** Used by RoomMedia; not created directly. */
  constructor(peerId: string, router: types.Router, options: PeerMediaOptions) {
    super();
    this.peerId = peerId;
    this.#router = router;
    this.#options = options;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** My live producers. */
  get producers(): ReadonlyMap<string, TrackProducer> {
    return this.#producers;
  }

  /** My live producer of a source, if any (the server allows one per source). */
  producerFor(source: TrackSource): TrackProducer | undefined {
    for (const producer of this.#producers.values()) if (producer.appData.source === source) return producer;
    return undefined;
  }

  /** My live consumers. */
  get consumers(): ReadonlyMap<string, TrackConsumer> {
    return this.#consumers;
  }

  /** Number of open transports. */
  get transportCount(): number {
    return this.#transports.size + this.#creatingTransports;
  }

  /** Whether a receive transport exists to carry consumers. */
  get hasReceiveTransport(): boolean {
    return this.#recvTransport !== undefined;
  }

  /** Open a WebRTC transport on the worker's shared WebRtcServer. */
  async createTransport(direction: 'send' | 'recv'): Promise<TransportInfo> {
    this.#assertOpen();
    this.#creatingTransports++;
    const transport = await this.#router
      .createWebRtcTransport({
        webRtcServer: this.#options.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: this.#options.initialAvailableOutgoingBitrate,
        appData: { direction },
      })
      .finally(() => this.#creatingTransports--);
    if (this.#closed) {
      transport.close();
      throw new SfuError('closed', 'peer media closed while creating a transport');
    }
    this.#transports.set(transport.id, transport);
    transport.observer.once('close', () => {
      this.#transports.delete(transport.id);
      if (this.#recvTransport === transport) this.#recvTransport = undefined;
    });
    // The first receive transport carries consumers; a later one replaces it (client reconnect).
    if (direction === 'recv') this.#recvTransport = transport;
    if (direction === 'send') await transport.setMaxIncomingBitrate(this.#options.maxIncomingBitrate);
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /** Give a transport the client's DTLS parameters. */
  async connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    const transport = this.#transport(transportId);
    await rejectedOnError('connect', () => transport.connect({ dtlsParameters }));
  }

  /** New ICE credentials for a transport whose connection dropped; the client restarts ICE with them. */
  async restartIce(transportId: string): Promise<types.IceParameters> {
    const transport = this.#transport(transportId);
    return rejectedOnError('restartIce', () => transport.restartIce());
  }

  /**
   * Close every transport, and with them my producers and consumers, but stay open: the client
   * starts its media over on new transports (after ICE restarts did not bring a connection back).
   */
  closeTransports(): void {
    this.#assertOpen();
    for (const transport of [...this.#transports.values()]) transport.close();
  }

  /** Start receiving a track from the client. */
  async produce(
    transportId: string,
    kind: types.MediaKind,
    rtpParameters: types.RtpParameters,
    source: TrackSource,
    /** Start muted (a source the participant may not open yet). */
    paused = false,
  ): Promise<TrackProducer> {
    const transport = this.#transport(transportId);
    if (transport.appData.direction !== 'send') throw new SfuError('rejected', 'cannot produce on a receive transport');
    const producer = await rejectedOnError('produce', () =>
      transport.produce<TrackAppData>({ kind, rtpParameters, paused, appData: { source, peerId: this.peerId } }),
    );
    if (this.#closed) {
      producer.close();
      throw new SfuError('closed', 'peer media closed while producing');
    }
    this.#producers.set(producer.id, producer);
    if (kind === 'audio') this.#options.onAudioProducer?.(producer);
    producer.observer.once('close', () => {
      this.#producers.delete(producer.id);
      this.emit('producerClosed', producer);
    });
    return producer;
  }

  /**
   * Create a paused consumer of someone else's producer on my receive transport. Paused so the
   * client can attach the track before media flows and ask for a keyframe on resume.
   */
  async consume(producer: TrackProducer, rtpCapabilities: types.RtpCapabilities): Promise<TrackConsumer> {
    this.#assertOpen();
    const transport = this.#recvTransport;
    if (!transport) throw new SfuError('no_recv_transport', 'create a receive transport before consuming');
    if (this.#consumedProducers.has(producer.id)) throw new SfuError('rejected', `already consuming producer ${producer.id}`);
    if (!this.#router.canConsume({ producerId: producer.id, rtpCapabilities })) {
      throw new SfuError('cannot_consume', `this device cannot decode ${producer.kind} producer ${producer.id}`);
    }
    this.#consumedProducers.add(producer.id);
    let consumer: TrackConsumer;
    try {
      consumer = await rejectedOnError('consume', () =>
        transport.consume<TrackAppData>({
          producerId: producer.id,
          rtpCapabilities,
          paused: true,
          appData: { ...producer.appData },
        }),
      );
    } catch (error) {
      this.#consumedProducers.delete(producer.id);
      throw error;
    }
    if (this.#closed) {
      consumer.close();
      throw new SfuError('closed', 'peer media closed while consuming');
    }
    this.#consumers.set(consumer.id, consumer);
    this.#options.consumerGate?.add(consumer);
    consumer.on('producerpause', () => this.emit('consumerPaused', consumer));
    consumer.on('producerresume', () => this.emit('consumerResumed', consumer));
    consumer.observer.once('close', () => {
      this.#consumers.delete(consumer.id);
      this.#consumedProducers.delete(producer.id);
      this.emit('consumerClosed', consumer);
    });
    return consumer;
  }

  /** Whether this peer consumes `producerId`, or a consumer for it is being created. */
  consumes(producerId: string): boolean {
    return this.#consumedProducers.has(producerId);
  }

  /** Let media flow on a consumer the client has set up. */
  async resumeConsumer(consumerId: string): Promise<void> {
    const consumer = this.#consumer(consumerId);
    const gate = this.#options.consumerGate;
    await whileOpen(consumer, consumerId, () => (gate ? gate.resume(consumer) : consumer.resume()));
  }

  /** Pause one of my consumers (low-bandwidth mode, hidden tiles). */
  async pauseConsumer(consumerId: string): Promise<void> {
    const consumer = this.#consumer(consumerId);
    const gate = this.#options.consumerGate;
    await whileOpen(consumer, consumerId, () => (gate ? gate.pause(consumer) : consumer.pause()));
  }

  /**
   * Cap a simulcast consumer at the layer that fits the tile it is shown in. mediasoup then picks,
   * at or below that cap, the best layer the receiver's estimated bandwidth allows.
   * Returns the preferred spatial layer (0 for a non-simulcast consumer).
   */
  async setPreferredSize(consumerId: string, height: number): Promise<number> {
    const consumer = this.#consumer(consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') return 0;
    const encoding = consumer.rtpParameters.encodings?.[0];
    const { spatialLayers, temporalLayers } = mediasoup.parseScalabilityMode(encoding?.scalabilityMode);
    const fitting = LAYER_MAX_HEIGHT.findIndex((max) => height <= max);
    const spatialLayer = Math.min(spatialLayers - 1, fitting === -1 ? spatialLayers - 1 : fitting);
    await consumer.setPreferredLayers({ spatialLayer, temporalLayer: temporalLayers - 1 });
    return spatialLayer;
  }

  /** Mute one of my producers. */
  async pauseProducer(producerId: string): Promise<void> {
    await this.#producer(producerId).pause();
  }

  /** Unmute one of my producers. */
  async resumeProducer(producerId: string): Promise<void> {
    await this.#producer(producerId).resume();
  }

  /** Stop one of my producers; everybody's consumers of it close too. */
  closeProducer(producerId: string): void {
    this.#producer(producerId).close();
  }

  /** Close every transport (and so every producer and consumer). Idempotent; emits `close` once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of [...this.#transports.values()]) transport.close();
    this.#transports.clear();
    this.emit('close');
  }

  #transport(id: string): types.WebRtcTransport {
    this.#assertOpen();
    const transport = this.#transports.get(id);
    if (!transport) throw new SfuError('not_found', `no transport ${id}`);
    return transport;
  }

  #consumer(id: string): TrackConsumer {
    this.#assertOpen();
    const consumer = this.#consumers.get(id);
    if (!consumer) throw new SfuError('not_found', `no consumer ${id}`);
    return consumer;
  }

  #producer(id: string): TrackProducer {
    this.#assertOpen();
    const producer = this.#producers.get(id);
    if (!producer) throw new SfuError('not_found', `no producer ${id}`);
    return producer;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('closed', 'peer media is closed');
  }
}

/**
 * Run a call on a consumer that may close meanwhile (its producer left while the request was in
 * flight): that is `not_found` for the client, like an id it never had, not an internal error.
 */
async function whileOpen(consumer: { closed: boolean }, id: string, call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (consumer.closed) throw new SfuError('not_found', `consumer ${id} has closed`, { cause: error });
    throw error;
  }
}
