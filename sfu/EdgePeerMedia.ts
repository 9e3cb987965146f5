// A participant of a room whose receiving is on an edge node: the home's share of the room is used,
// so their receive transport and consumers live on another host (the room's tracks piped there
// over SRTP). What they publish stays on the home node (an edge student who unmutes is heard: their
// send transport is a home transport like anyone's), and so does everything the room decides. To
// the server and the fan-out this is a PeerMedia like any other; only where media flows differs.
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { PeerMedia, type PeerMediaOptions, type TransportInfo, type ClientParameters } from './PeerMedia.js';
import { SfuError } from './SfuError.js';
import { Subscription } from './Subscription.js';
import { trackProducer, type Track, type TrackAppData, type TrackCounts, type TrackKind } from './Track.js';
import type { EdgeConsumerInfo, EdgeLink } from './EdgeLink.js';
import type { ConsumerGate } from './LoudestSpeakers.js';
import { preferLayerFor } from './layers.js';

/** An edge consumer as the home node keeps it. */
class EdgeConsumer {
  readonly id: string;
  readonly producerId: string;
  readonly kind: TrackKind;
  readonly type: types.ConsumerType;
  readonly appData: TrackAppData;
  readonly rtpParameters: types.RtpParameters;
  paused = true;
  producerPaused: boolean;
  closed = false;
  /** Stops following the track's producer. */
  unwatch: () => void = () => undefined;
  /** Emits `close` once (the room's audio gate forgets it). */
  readonly observer = new EventEmitter<{ close: [] }>();
  readonly #link: EdgeLink;

  constructor(info: EdgeConsumerInfo, track: Track, link: EdgeLink) {
    this.#link = link;
    this.id = info.id;
    this.producerId = track.id;
    this.kind = info.kind;
    this.type = info.type;
    this.appData = { source: track.source, peerId: track.peerId };
    this.rtpParameters = info.rtpParameters;
    this.producerPaused = info.producerPaused;
  }

  /** Let media flow on the edge. */
  async resume(): Promise<void> {
    await this.#link.consumer(this.id, 'resume');
    this.paused = false;
  }

  /** Stop media on the edge. */
  async pause(): Promise<void> {
    await this.#link.consumer(this.id, 'pause');
    this.paused = true;
  }

  /** Cap the layers the edge forwards. */
  async setPreferredLayers(layers: { spatialLayer: number; temporalLayer?: number }): Promise<void> {
    await this.#link.preferLayers(this.id, layers.spatialLayer, layers.temporalLayer ?? 2);
  }
}

/** What an edge subscriber needs besides a PeerMedia's options. */
export interface EdgePeerMediaOptions extends PeerMediaOptions {
  /** The room on the edge node. */
  link: EdgeLink;
  /** Make a track consumable on the edge (pipe it there, once per track). */
  bring: (track: Track) => Promise<void>;
  /** Consumers it is due on the edge now (the room's tracks under its video cap), for the edge's placement. */
  due: () => number;
}

/** A participant receiving on an edge node, publishing on the home node. */
export class EdgePeerMedia extends PeerMedia {
  readonly #link: EdgeLink;
  readonly #bring: (track: Track) => Promise<void>;
  readonly #due: () => number;
  /** The room's audio gate (the loudest M microphones), as for a home subscriber. */
  readonly #gate: ConsumerGate | undefined;
  readonly #recvTransports = new Set<string>();
  #recvTransport: string | undefined;
  #rtpCapabilities: ClientParameters | undefined;
  readonly #consumers = new Map<string, EdgeConsumer>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #subscribedTracks = new Set<string>();

  /** Made by RoomMedia.addPeer with an edge place. */
  constructor(peerId: string, options: EdgePeerMediaOptions) {
    super(peerId, options);
    this.#link = options.link;
    this.#bring = options.bring;
    this.#due = options.due;
    this.#gate = options.consumerGate;
  }

  /** The edge node it receives from. */
  get edgeNodeId(): string {
    return this.#link.nodeId;
  }

  override get transportCount(): number {
    return super.transportCount + this.#recvTransports.size;
  }

  override get hasReceiveTransport(): boolean {
    return this.#recvTransport !== undefined;
  }

  override get receiving(): boolean {
    return this.#rtpCapabilities !== undefined && !this.closed;
  }

  override get subscriptions(): ReadonlyMap<string, Subscription> {
    return this.#subscriptions;
  }

  /** Sending on the home node; receiving on the edge (its ICE candidates are the edge's). */
  override async createTransport(direction: 'send' | 'recv'): Promise<TransportInfo> {
    if (direction === 'send') return super.createTransport('send');
    if (this.closed) throw new SfuError('closed', 'peer media is closed');
    const info = await this.#link.createTransport(this.id, this.#due());
    if (this.closed) {
      void this.#link.closeSubscriber(this.id).catch(() => undefined);
      throw new SfuError('closed', 'peer media closed while creating a transport');
    }
    this.#recvTransports.add(info.id);
    this.#recvTransport = info.id;
    return info;
  }

  override async connectTransport(transportId: string, dtlsParameters: ClientParameters): Promise<void> {
    if (!this.#recvTransports.has(transportId)) return super.connectTransport(transportId, dtlsParameters);
    await this.#link.connectTransport(transportId, dtlsParameters);
  }

  override async restartIce(transportId: string): Promise<types.IceParameters> {
    if (!this.#recvTransports.has(transportId)) return super.restartIce(transportId);
    return this.#link.restartIce(transportId);
  }

  override closeTransports(): void {
    super.closeTransports();
    this.#dropRemote();
  }

  override receiveWith(rtpCapabilities: ClientParameters): void {
    super.receiveWith(rtpCapabilities);
    this.#rtpCapabilities = rtpCapabilities;
  }

  /** Nothing on the home node: its consumers are carried by the edge. */
  override expectedSubscriptions(_tracks: TrackCounts): number {
    return 0;
  }

  override subscribes(trackId: string): boolean {
    return this.#subscribedTracks.has(trackId);
  }

  /** Pipe the track to the edge (once), then a paused consumer of it there. */
  override async subscribe(track: Track): Promise<Subscription> {
    const transportId = this.#recvTransport;
    const rtpCapabilities = this.#rtpCapabilities;
    if (this.closed) throw new SfuError('closed', 'peer media is closed');
    if (!transportId || !rtpCapabilities) throw new SfuError('no_recv_transport', 'create a receive transport and send ready before consuming');
    if (this.#subscribedTracks.has(track.id)) throw new SfuError('rejected', `already consuming track ${track.id}`);
    if (track.kind === 'video' && !this.reception.claimVideo(track.id)) throw new SfuError('rejected', `video cap of ${this.reception.maxVideo} reached`);
    this.#subscribedTracks.add(track.id);
    let consumer: EdgeConsumer;
    try {
      await this.#bring(track);
      consumer = new EdgeConsumer(await this.#link.consume(transportId, track.id, rtpCapabilities), track, this.#link);
    } catch (error) {
      this.#subscribedTracks.delete(track.id);
      if (track.kind === 'video') this.reception.releaseVideo(track.id);
      throw error;
    }
    const subscription = new Subscription(consumer);
    this.#consumers.set(consumer.id, consumer);
    this.#subscriptions.set(consumer.id, subscription);
    this.#gate?.add(consumer);
    // The track's life is known here, at its publisher: the edge's consumer follows through its pipe.
    const producer = trackProducer(track);
    const onPause = () => {
      consumer.producerPaused = true;
      this.emit('trackPaused', subscription);
    };
    const onResume = () => {
      consumer.producerPaused = false;
      this.emit('trackResumed', subscription);
    };
    const onClose = () => this.#ended(consumer, subscription, track);
    producer.observer.on('pause', onPause);
    producer.observer.on('resume', onResume);
    producer.observer.once('close', onClose);
    consumer.unwatch = () => {
      producer.observer.off('pause', onPause);
      producer.observer.off('resume', onResume);
      producer.observer.off('close', onClose);
    };
    if (this.closed || track.closed) {
      this.#ended(consumer, subscription, track);
      throw new SfuError('closed', 'peer media closed while consuming');
    }
    return subscription;
  }

  override unsubscribe(subscriptionId: string): void {
    const consumer = this.#edgeConsumer(subscriptionId);
    const track = { id: consumer.producerId, kind: consumer.kind };
    this.#ended(consumer, this.#subscriptions.get(subscriptionId)!, track);
  }

  override async attach(subscriptionId: string): Promise<void> {
    const consumer = this.#edgeConsumer(subscriptionId);
    this.reception.attach(subscriptionId);
    if (this.reception.flows(received(consumer))) await this.resume(subscriptionId);
  }

  override async applyReception(): Promise<void> {
    await Promise.all(
      [...this.#consumers.values()].map(async (consumer) => {
        const flows = this.reception.flows(received(consumer));
        if (flows === !consumer.paused || consumer.closed) return;
        await (flows ? this.resume(consumer.id) : this.pause(consumer.id)).catch((error: unknown) => {
          if (!consumer.closed && !this.closed) throw error;
        });
      }),
    );
  }

  override async resume(subscriptionId: string): Promise<void> {
    const consumer = this.#edgeConsumer(subscriptionId);
    await (this.#gate ? this.#gate.resume(consumer) : consumer.resume());
  }

  override async pause(subscriptionId: string): Promise<void> {
    const consumer = this.#edgeConsumer(subscriptionId);
    await (this.#gate ? this.#gate.pause(consumer) : consumer.pause());
  }

  /** The same layer rule as a home subscriber's (layers.ts), applied on the edge. */
  override async preferLayer(subscriptionId: string, height: number): Promise<number> {
    return preferLayerFor(this.#edgeConsumer(subscriptionId), height);
  }

  /** Close here and on the edge. Idempotent. */
  override close(): void {
    if (this.closed) return;
    this.#dropRemote();
    super.close();
  }

  /** Every edge subscription ends and the edge transports close (the edge closes its consumers with them). */
  #dropRemote(): void {
    for (const consumer of [...this.#consumers.values()]) this.#ended(consumer, this.#subscriptions.get(consumer.id)!, { id: consumer.producerId, kind: consumer.kind }, false);
    if (this.#recvTransports.size > 0) void this.#link.closeSubscriber(this.id).catch(() => undefined);
    this.#recvTransports.clear();
    this.#recvTransport = undefined;
  }

  #ended(consumer: EdgeConsumer, subscription: Subscription, track: { id: string; kind: TrackKind }, tellEdge = true): void {
    if (consumer.closed) return;
    consumer.closed = true;
    consumer.unwatch();
    this.#consumers.delete(consumer.id);
    this.#subscriptions.delete(consumer.id);
    this.#subscribedTracks.delete(track.id);
    this.reception.forget(consumer.id);
    if (track.kind === 'video') this.reception.releaseVideo(track.id);
    if (tellEdge) void this.#link.consumer(consumer.id, 'close').catch(() => undefined);
    consumer.observer.emit('close');
    this.emit('unsubscribed', subscription);
  }

  #edgeConsumer(id: string): EdgeConsumer {
    if (this.closed) throw new SfuError('closed', 'peer media is closed');
    const consumer = this.#consumers.get(id);
    if (!consumer) throw new SfuError('not_found', `no consumer ${id}`);
    return consumer;
  }
}

function received(consumer: EdgeConsumer): { id: string; trackId: string; kind: TrackKind; source: TrackAppData['source'] } {
  return { id: consumer.id, trackId: consumer.producerId, kind: consumer.kind, source: consumer.appData.source };
}
