// One browser participant's media in one room: its WebRTC transports, the tracks it publishes and
// the subscriptions it receives. It is a Subscriber like any other (PlainSubscriber, the recorder), so
// the room's fan-out drives it through the same calls. Ids handed in from the network are looked up
// only in this peer's own maps, so nobody can touch another participant's media by guessing an id.
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { SfuError, rejectedOnError } from './SfuError.js';
import type { ConsumerGate } from './LoudestSpeakers.js';
import { Track, trackProducer as trackProducerOf, type TrackAppData, type TrackConsumer, type TrackCounts, type TrackKind, type TrackProducer, type TrackSource } from './Track.js';
import { Reception } from './Reception.js';
import { Subscription } from './Subscription.js';
import type { Subscriber, SubscriberEvents } from './Subscriber.js';
import type { RoomRouter } from './RoomRouter.js';
import { preferLayerFor } from './layers.js';
import { countForwarding } from './countedConsumer.js';
import { estimatesBandwidth } from './bandwidthEstimation.js';

/**
 * Parameters a browser's WebRTC stack produced (RTP capabilities, DTLS or RTP parameters). The
 * server shape-checks them against its protocol schema; the worker checks the content and refuses
 * bad values, which reach the client as `rejected`.
 */
export type ClientParameters = object;

/** What a client needs to build its side of a transport. */
export interface TransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

/** Settings for this peer's transports, and the room's hooks. */
export interface PeerMediaOptions {
  maxIncomingBitrate: number;
  initialAvailableOutgoingBitrate: number;
  /** Where the room puts this peer: asked once, at its first transport. */
  place: () => Promise<RoomRouter>;
  /** Called with every track this peer publishes, once it exists. */
  onPublished?: (track: Track) => void;
  /** What this peer receives (view, video cap, low-bandwidth mode); a new one with no cap if absent. */
  reception?: Reception;
  /** Where the room may also pause my subscriptions (audio of microphones it does not forward). */
  consumerGate?: ConsumerGate;
}

/** Events of a PeerMedia: a subscriber's, plus its own tracks'. */
export type PeerMediaEvents = SubscriberEvents & {
  /** One of my tracks ended (by me, or because my transport closed). */
  unpublished: [track: Track];
};

/** A browser participant's transports, published tracks and subscriptions. */
export class PeerMedia extends TypedEmitter<PeerMediaEvents> implements Subscriber {
  /** The participant this media belongs to. */
  readonly id: string;
  /** Its last-N view, video cap and low-bandwidth mode: the subscriber's own rule for what flows. */
  readonly reception: Reception;
  readonly #options: PeerMediaOptions;
  #placement: Promise<RoomRouter> | undefined;
  #host: RoomRouter | undefined;
  readonly #transports = new Map<string, types.WebRtcTransport>();
  /** Transports being created: counted at once, so concurrent requests cannot overshoot a limit. */
  #creatingTransports = 0;
  readonly #tracks = new Map<string, Track>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #consumers = new Map<string, TrackConsumer>();
  /** Tracks this peer receives or is about to (registered before the worker is asked). */
  readonly #subscribedTracks = new Set<string>();
  #recvTransport: types.WebRtcTransport | undefined;
  #rtpCapabilities: types.RtpCapabilities | undefined;
  /** estimatesBandwidth(): read from the capabilities once, when given (load is weighed often). */
  #estimates = true;
  #closed = false;

  /** Made by RoomMedia.addPeer; not created directly. */
  constructor(peerId: string, options: PeerMediaOptions) {
    super();
    this.id = peerId;
    this.#options = options;
    this.reception = options.reception ?? new Reception();
  }

  /** The participant's id (same as `id`). */
  get peerId(): string {
    return this.id;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The router this peer was placed on, once placed. */
  get placement(): RoomRouter | undefined {
    return this.#host;
  }

  // ---- publishing ----

  /** My live tracks by id. */
  get tracks(): ReadonlyMap<string, Track> {
    return this.#tracks;
  }

  /** My live track of a source, if any (the server allows one per source). */
  trackFor(source: TrackSource): Track | undefined {
    for (const track of this.#tracks.values()) if (track.source === source) return track;
    return undefined;
  }

  /** Number of open transports. */
  get transportCount(): number {
    return this.#transports.size + this.#creatingTransports;
  }

  /** Whether a receive transport exists to carry subscriptions. */
  get hasReceiveTransport(): boolean {
    return this.#recvTransport !== undefined;
  }

  /** Open a WebRTC transport on the worker's shared WebRtcServer, on the router the room placed me on. */
  async createTransport(direction: 'send' | 'recv'): Promise<TransportInfo> {
    this.#assertOpen();
    this.#creatingTransports++;
    let transport: types.WebRtcTransport;
    let host: RoomRouter;
    try {
      host = await this.#place();
      const router = await host.ready();
      transport = await router.createWebRtcTransport({
        webRtcServer: host.host.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: this.#options.initialAvailableOutgoingBitrate,
        appData: { direction },
      });
    } finally {
      this.#creatingTransports--;
    }
    if (this.#closed) {
      transport.close();
      throw new SfuError('closed', 'peer media closed while creating a transport');
    }
    this.#transports.set(transport.id, transport);
    transport.observer.once('close', () => {
      this.#transports.delete(transport.id);
      host.host.senders.delete(transport);
      if (this.#recvTransport === transport) this.#recvTransport = undefined;
    });
    // The first receive transport carries subscriptions; a later one replaces it (client reconnect).
    if (direction === 'recv') {
      this.#recvTransport = transport;
      host.host.senders.add(transport);
    }
    if (direction === 'send') await transport.setMaxIncomingBitrate(this.#options.maxIncomingBitrate);
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /** Give a transport the client's DTLS parameters. */
  async connectTransport(transportId: string, dtlsParameters: ClientParameters): Promise<void> {
    const transport = this.#transport(transportId);
    await rejectedOnError('connect', () => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
  }

  /** New ICE credentials for a transport whose connection dropped; the client restarts ICE with them. */
  async restartIce(transportId: string): Promise<types.IceParameters> {
    const transport = this.#transport(transportId);
    return rejectedOnError('restartIce', () => transport.restartIce());
  }

  /**
   * Close every transport, and with them my tracks and subscriptions, but stay open: the client
   * starts its media over on new transports (after ICE restarts did not bring a connection back).
   */
  closeTransports(): void {
    this.#assertOpen();
    for (const transport of [...this.#transports.values()]) transport.close();
  }

  /** Start receiving a track from the client; the room then fans it out (RoomMedia.distribute). */
  async publish(
    transportId: string,
    kind: TrackKind,
    rtpParameters: ClientParameters,
    source: TrackSource,
    /** Start muted (a source the participant may not open yet). */
    paused = false,
  ): Promise<Track> {
    const transport = this.#transport(transportId);
    if (transport.appData.direction !== 'send') throw new SfuError('rejected', 'cannot produce on a receive transport');
    const producer: TrackProducer = await rejectedOnError('produce', () =>
      transport.produce<TrackAppData>({ kind, rtpParameters: rtpParameters as types.RtpParameters, paused, appData: { source, peerId: this.id } }),
    );
    if (this.#closed) {
      producer.close();
      throw new SfuError('closed', 'peer media closed while producing');
    }
    const track = new Track(producer);
    this.#tracks.set(track.id, track);
    producer.observer.once('close', () => {
      this.#tracks.delete(track.id);
      this.emit('unpublished', track);
    });
    this.#options.onPublished?.(track);
    return track;
  }

  /** Mute one of my tracks: every subscription to it pauses. */
  async pauseTrack(trackId: string): Promise<void> {
    await this.#producer(trackId).pause();
  }

  /** Unmute one of my tracks. */
  async resumeTrack(trackId: string): Promise<void> {
    await this.#producer(trackId).resume();
  }

  /** End one of my tracks; everybody's subscriptions to it end too. */
  unpublish(trackId: string): void {
    this.#producer(trackId).close();
  }

  // ---- receiving (Subscriber) ----

  /** From now on this peer receives, decoding what `rtpCapabilities` says its device can. */
  receiveWith(rtpCapabilities: ClientParameters): void {
    this.#rtpCapabilities = rtpCapabilities as types.RtpCapabilities;
    this.#estimates = estimatesBandwidth(this.#rtpCapabilities);
  }

  /**
   * Whether its receive transport estimates its bandwidth (sfu/bandwidthEstimation.ts): what its
   * browser's capabilities say, and until it said, yes (every browser does).
   */
  get estimatesBandwidth(): boolean {
    return this.#estimates;
  }

  /** Whether it said what it decodes (`ready`); it also needs a receive transport to get anything. */
  get receiving(): boolean {
    return this.#rtpCapabilities !== undefined && !this.#closed;
  }

  /** My live subscriptions by id. */
  get subscriptions(): ReadonlyMap<string, Subscription> {
    return this.#subscriptions;
  }

  /**
   * Subscriptions held, or the tracks a browser that has not yet received is due to get: every
   * microphone, and video up to its cap, or up to its view once it named one (a page of 4, a speaker view).
   */
  expectedSubscriptions(tracks: TrackCounts): number {
    const video = Math.min(tracks.video, this.reception.view?.length ?? this.reception.maxVideo);
    return Math.max(this.#subscribedTracks.size, tracks.audio + video);
  }

  /** Audio always; video only in view and under the cap (an off-view one may make room). */
  wants(track: Track): boolean {
    return track.kind === 'audio' || this.reception.canClaim(track.id);
  }

  /** Whether this peer receives `trackId`, or a subscription to it is being made. */
  subscribes(trackId: string): boolean {
    return this.#subscribedTracks.has(trackId);
  }

  /**
   * Create a paused consumer of a track on my receive transport. Paused so the client can attach
   * the track before media flows and ask for a keyframe on resume. Counted on the worker (and as
   * subscribed) before the worker is asked, so concurrent asks neither overshoot nor duplicate.
   */
  async subscribe(track: Track): Promise<Subscription> {
    this.#assertOpen();
    const transport = this.#recvTransport;
    const router = this.#host?.router;
    const rtpCapabilities = this.#rtpCapabilities;
    if (!transport || !router) throw new SfuError('no_recv_transport', 'create a receive transport before consuming');
    if (!rtpCapabilities) throw new SfuError('no_recv_transport', 'send ready before consuming');
    if (this.#subscribedTracks.has(track.id)) throw new SfuError('rejected', `already consuming track ${track.id}`);
    if (!router.canConsume({ producerId: track.id, rtpCapabilities })) {
      throw new SfuError('cannot_consume', `this device cannot decode ${track.kind} track ${track.id}`);
    }
    if (track.kind === 'video' && !this.#claimVideo(track.id)) throw new SfuError('rejected', `video cap of ${this.reception.maxVideo} reached`);
    this.#subscribedTracks.add(track.id);
    let consumer: TrackConsumer | undefined;
    // Until attached, a consumer in view weighs what it will forward; after, only while it flows.
    const settingUp = () => consumer === undefined || this.reception.settingUp(received(consumer));
    const counted = countForwarding(this.#host!.host, track.id, { router: this.#host, kind: track.kind, settingUp, estimates: this.estimatesBandwidth });
    try {
      consumer = await rejectedOnError('consume', () =>
        transport.consume<TrackAppData>({
          producerId: track.id,
          rtpCapabilities,
          paused: true,
          appData: { source: track.source, peerId: track.peerId },
        }),
      );
    } catch (error) {
      this.#subscribedTracks.delete(track.id);
      counted.uncount();
      if (track.kind === 'video') this.reception.releaseVideo(track.id);
      throw error;
    }
    counted.made(consumer);
    const made = consumer;
    const subscription = new Subscription(made);
    this.#consumers.set(made.id, made);
    this.#options.consumerGate?.add(made);
    this.#subscriptions.set(made.id, subscription);
    made.on('producerpause', () => this.emit('trackPaused', subscription));
    made.on('producerresume', () => this.emit('trackResumed', subscription));
    made.observer.once('close', () => {
      counted.uncount();
      this.#consumers.delete(made.id);
      this.#subscriptions.delete(made.id);
      this.#subscribedTracks.delete(track.id);
      this.reception.forget(made.id);
      if (track.kind === 'video') this.reception.releaseVideo(track.id);
      this.emit('unsubscribed', subscription);
    });
    if (this.#closed) {
      made.close();
      throw new SfuError('closed', 'peer media closed while consuming');
    }
    return subscription;
  }

  /** Stop receiving one subscription. */
  unsubscribe(subscriptionId: string): void {
    this.#consumer(subscriptionId).close();
  }

  /**
   * The client has set this subscription up (attached the track): media flows on it if the
   * reception rule allows (in view, not a camera in low-bandwidth mode), else it stays paused.
   */
  async attach(subscriptionId: string): Promise<void> {
    const consumer = this.#consumer(subscriptionId);
    this.reception.attach(subscriptionId);
    if (this.reception.flows(received(consumer))) await this.resume(subscriptionId);
  }

  /** Pause or resume each subscription by the reception rule (after a view or mode change). */
  async applyReception(): Promise<void> {
    await Promise.all(
      [...this.#consumers.values()].map(async (consumer) => {
        const flows = this.reception.flows(received(consumer));
        if (flows === !consumer.paused) return;
        try {
          await (flows ? this.resume(consumer.id) : this.pause(consumer.id));
        } catch (error) {
          if (!consumer.closed && !this.#closed) throw error; // closed meanwhile: nothing left to apply
        }
      }),
    );
  }

  /** Let media flow on a subscription the client has set up. */
  async resume(subscriptionId: string): Promise<void> {
    const consumer = this.#consumer(subscriptionId);
    const gate = this.#options.consumerGate;
    await whileOpen(consumer, subscriptionId, () => (gate ? gate.resume(consumer) : consumer.resume()));
  }

  /** Pause one of my subscriptions (low-bandwidth mode, hidden tiles). */
  async pause(subscriptionId: string): Promise<void> {
    const consumer = this.#consumer(subscriptionId);
    const gate = this.#options.consumerGate;
    await whileOpen(consumer, subscriptionId, () => (gate ? gate.pause(consumer) : consumer.pause()));
  }

  /**
   * Cap a simulcast subscription at the layer that fits the tile it is shown in. mediasoup then
   * picks, at or below that cap, the best layer the receiver's estimated bandwidth allows.
   * Returns the preferred spatial layer (0 for a non-simulcast track).
   */
  async preferLayer(subscriptionId: string, height: number): Promise<number> {
    return preferLayerFor(this.#consumer(subscriptionId), height);
  }

  /** Close every transport (and so every track and subscription). Idempotent; emits `close` once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of [...this.#transports.values()]) transport.close();
    this.#transports.clear();
    this.#host?.placed.delete(this);
    this.emit('close');
  }

  /**
   * A video slot for a track in my capped set; when the cap is reached, by ending the subscription
   * of a track no longer in view.
   */
  #claimVideo(trackId: string): boolean {
    if (!this.reception.wants(trackId)) return false;
    if (this.reception.claimVideo(trackId)) return true;
    const evicted = this.reception.offView()[0];
    if (evicted === undefined) return false;
    for (const consumer of [...this.#consumers.values()]) if (consumer.producerId === evicted) consumer.close();
    this.reception.releaseVideo(evicted);
    return this.reception.claimVideo(trackId);
  }

  #place(): Promise<RoomRouter> {
    this.#placement ??= this.#options.place().then((host) => {
      this.#host = host;
      if (this.#closed) host.placed.delete(this);
      return host;
    });
    return this.#placement;
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

  #producer(trackId: string): TrackProducer {
    this.#assertOpen();
    const track = this.#tracks.get(trackId);
    if (!track) throw new SfuError('not_found', `no producer ${trackId}`);
    return trackProducerOf(track);
  }

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('closed', 'peer media is closed');
  }
}

/**
 * Run a call on a consumer that may close meanwhile (its track ended while the request was in
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

/** A consumer as the reception rule sees it. */
function received(consumer: TrackConsumer): { id: string; trackId: string; kind: TrackKind; source: TrackSource } {
  return { id: consumer.id, trackId: consumer.producerId, kind: consumer.kind, source: consumer.appData.source };
}
