// A room as an edge node carries it for its home node: one router, the pipes from the home node
// (mediasoup PipeTransports with SRTP and RTX on, on the private address), the home's tracks produced
// on them under their own ids, and the receive transports and consumers of the subscribers the home
// placed here. No room state lives here: the home node decides who receives what and tells this
// node over the control channel; every id handed in is looked up in this room's own maps only.
// A room as an edge node carries it for its home node: the pipes from the home node (mediasoup
// PipeTransports with SRTP and RTX on, on the private address) on the room's first router, the
// home's tracks produced on them under their own ids, and the receive transports and consumers of
// the subscribers the home placed here. A big room spreads over this node's workers as it does on
// its home (the same Placement and threshold): past the spread threshold a new subscriber gets a
// router on another worker, and the tracks it consumes are piped there from the first router
// (pipeToRouter, inside the host). No room state lives here: the home node decides who receives what
// and tells this node over the control channel; every id handed in is looked up in this room's
// own maps only.
import type { types } from 'mediasoup';
import { SfuError, rejectedOnError } from './SfuError.js';
import type { PooledWorker } from './WorkerPool.js';
import type { TransportInfo } from './PeerMedia.js';
import type { EdgeConsumerInfo, EdgePipeState, PipeEnd, PipedTrack, PipeListen } from './EdgeLink.js';
import { Track, trackProducer, type TrackAppData, type TrackCounts } from './Track.js';
import type { Placement } from './Placement.js';
import { toEstimatingSubscriber, type ForwardLoad } from './Capacity.js';
import { UNMEASURED } from './TrackRates.js';
import { RoomRouter, type PlacedSubscriber } from './RoomRouter.js';
import { TypedEmitter } from './TypedEmitter.js';

/** What an edge router carries in its appData: tools watching mediasoup (the cluster bench) tell it from a home room's. */
const EDGE_ROUTER = { edge: true };

/** Limits of the edge transports (the home's media settings). */
export interface EdgeRoomOptions {
  initialAvailableOutgoingBitrate: number;
  pipeListen: PipeListen;
}

/** What the edge room places its routers by: this node's placement and spread threshold. */
export interface EdgeRoomContext {
  mediaCodecs: types.RouterRtpCodecCapability[];
  placement: Placement;
  /** A router holding (or due to hold) this many consumers takes no new subscriber. */
  spreadConsumers: number;
  /** What a packet to a browser weighs (CapacityOptions.estimatorPacketCost): edge subscribers are browsers. */
  estimatorPacketCost: number;
}

/** One of the edge room's routers as the audit sees it: its worker, and what reaches it how. */
export interface EdgeRouterState {
  /** Worker pool index. */
  worker: number;
  /** Tracks arriving from the home node's pipes (the first router), or piped in from the first router. */
  tracks: number;
  /** How they arrive: `home-pipe` (SRTP from the home node) or `worker-pipe` (from the first router, inside this host). */
  via: 'home-pipe' | 'worker-pipe';
  consumers: number;
}

/**
 * An edge subscriber as its router counts it: due what the home says (the room's tracks under its
 * caps, known at home before any is piped here), or every track piped here, until it holds more.
 */
class EdgeSubscriber implements PlacedSubscriber {
  /** Track ids it consumes, or is being given a consumer of. */
  readonly subscriptions = new Map<string, number>();
  /** A browser's receive transport. */
  readonly estimatesBandwidth = true;
  constructor(
    readonly id: string,
    readonly router: RoomRouter,
    readonly due: number,
  ) {}

  get consumers(): number {
    let n = 0;
    for (const count of this.subscriptions.values()) n += count;
    return n;
  }

  expectedSubscriptions(tracks: TrackCounts): number {
    return Math.max(this.consumers, this.due, tracks.audio + tracks.video);
  }

  subscribes(trackId: string): boolean {
    return this.subscriptions.has(trackId);
  }

  /** One consumer of `trackId` more (+1) or less (-1). */
  count(trackId: string, delta: 1 | -1): void {
    const n = (this.subscriptions.get(trackId) ?? 0) + delta;
    if (n > 0) this.subscriptions.set(trackId, n);
    else this.subscriptions.delete(trackId);
  }
}

/** Consumers a router's subscribers hold or are due (the edge spreads by counts: the home tells it counts, not track rates). */
function routerLoad(router: RoomRouter, tracks: TrackCounts): number {
  let n = 0;
  for (const s of router.placed) n += s.expectedSubscriptions(tracks);
  return n;
}

/** Events of an EdgeRoom. */
export type EdgeRoomEvents = {
  /** Closed (every router with it). Once. */
  close: [];
};

/** One home room's media on this (edge) node. */
export class EdgeRoom extends TypedEmitter<EdgeRoomEvents> {
  /** The room's name on its home node. */
  readonly roomName: string;
  readonly #context: EdgeRoomContext;
  readonly #options: EdgeRoomOptions;
  /** The first is where the home's pipes arrive; the others get the tracks from it. */
  readonly #routers: RoomRouter[];
  readonly #pipes = new Map<string, types.PipeTransport>();
  readonly #producers = new Map<string, Track>();
  readonly #subscribers = new Map<string, EdgeSubscriber>();
  readonly #transports = new Map<string, { subscriber: EdgeSubscriber; transport: types.WebRtcTransport }>();
  readonly #consumers = new Map<string, { subscriber: EdgeSubscriber; consumer: types.Consumer }>();
  #closed = false;

  /** The room's first router on `host` (where the pipes from the home arrive). */
  static async create(roomName: string, host: PooledWorker, context: EdgeRoomContext, options: EdgeRoomOptions): Promise<EdgeRoom> {
    const first = RoomRouter.start(host, roomName, context.mediaCodecs, EDGE_ROUTER);
    await first.ready(); // a failure closes it (and uncounts it on its worker)
    return new EdgeRoom(roomName, first, context, options);
  }

  private constructor(roomName: string, first: RoomRouter, context: EdgeRoomContext, options: EdgeRoomOptions) {
    super();
    this.roomName = roomName;
    this.#routers = [first];
    this.#context = context;
    this.#options = options;
    this.#watch(first);
  }

  /** Whether it is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Edge subscribers with a transport here. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Consumers of the edge subscribers here (what they weigh on this node's workers). */
  get consumerCount(): number {
    return this.#consumers.size;
  }

  /** Pipe ends open here. */
  get pipeCount(): number {
    return this.#pipes.size;
  }

  /** Open this end of a pipe from the home node, SRTP and RTX on, and connect it to the home's end. */
  async openPipe(pipeId: string, home: PipeEnd): Promise<PipeEnd> {
    this.#assertOpen();
    if (this.#pipes.has(pipeId)) throw new SfuError('rejected', `pipe ${pipeId} is open already`);
    const { ip, portMin, portMax } = this.#options.pipeListen;
    const router = await this.#first.ready();
    const pipe = await router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip, portRange: { min: portMin, max: portMax } },
      enableSrtp: true,
      enableRtx: true,
    });
    try {
      await rejectedOnError('pipe connect', () => pipe.connect({ ip: home.ip, port: home.port, srtpParameters: home.srtpParameters }));
    } catch (error) {
      pipe.close();
      throw error;
    }
    this.#pipes.set(pipeId, pipe);
    pipe.observer.once('close', () => this.#pipes.delete(pipeId));
    return { ip: pipe.tuple.localAddress, port: pipe.tuple.localPort, srtpParameters: pipe.srtpParameters! };
  }

  /** Produce a home track on a pipe, under the home's id. */
  async produce(pipeId: string, track: PipedTrack): Promise<void> {
    const pipe = this.#pipes.get(pipeId);
    if (!pipe) throw new SfuError('not_found', `no pipe ${pipeId}`);
    if (this.#producers.has(track.id)) return;
    const producer = await rejectedOnError('pipe produce', () =>
      pipe.produce<TrackAppData>({ id: track.id, kind: track.kind, rtpParameters: track.rtpParameters as types.RtpParameters, paused: track.paused, appData: { source: track.source, peerId: track.peerId } }),
    );
    // The pipe closing closes its producers; mediasoup closes their copies on the other routers
    // (pipeToRouter ties each copy to its pipe consumer), and with them the consumers there.
    this.#producers.set(track.id, new Track(producer));
    producer.observer.once('close', () => this.#producers.delete(track.id));
  }

  /** The publisher muted, unmuted or ended a track: its consumers here follow (on every router: mediasoup passes it down the worker pipes). */
  async trackState(trackId: string, state: 'paused' | 'resumed' | 'closed'): Promise<void> {
    const track = this.#producers.get(trackId);
    if (!track) return; // ended already, or never piped here
    const producer = trackProducer(track);
    if (state === 'closed') producer.close();
    else if (state === 'paused') await producer.pause();
    else await producer.resume();
  }

  /** Close one pipe end and what was produced on it. */
  closePipe(pipeId: string): void {
    this.#pipes.get(pipeId)?.close();
  }

  /** Each pipe end as mediasoup reports it: whether SRTP and RTX are on. */
  async pipes(): Promise<EdgePipeState[]> {
    return Promise.all(
      [...this.#pipes.entries()].map(async ([id, pipe]) => {
        const dump = await pipe.dump();
        return { id, srtp: dump.srtpParameters !== undefined, rtx: dump.rtx, producers: dump.producerIds.length };
      }),
    );
  }

  /** Every router of the room here, read from mediasoup: its worker, the tracks reaching it and how, its consumers. */
  async routers(): Promise<EdgeRouterState[]> {
    const live = this.#routers.filter((r) => !r.closed && r.router);
    return Promise.all(
      live.map(async (r) => {
        const dump = await r.router!.dump();
        const consumers = [...this.#consumers.values()].filter((c) => c.subscriber.router === r).length;
        return { worker: r.host.index, tracks: dump.mapProducerIdConsumerIds.length, via: r === this.#first ? ('home-pipe' as const) : ('worker-pipe' as const), consumers };
      }),
    );
  }

  /**
   * What this room's subscribers on `worker` are due and do not hold yet (for placement across rooms;
   * what they hold is counted on the worker already). Weighed as unmeasured video, the conservative
   * default: the edge is told counts by the home, not which tracks or at what rate; to browsers.
   */
  dueOn(worker: PooledWorker): ForwardLoad {
    const tracks = this.#trackCounts();
    let missing = 0;
    for (const router of this.#routers) {
      if (router.host !== worker || router.closed) continue;
      for (const s of router.placed) missing += Math.max(0, s.expectedSubscriptions(tracks) - s.subscriptions.size);
    }
    const { packetRate, bitrate } = UNMEASURED.video.layer;
    return toEstimatingSubscriber({ packetRate: missing * packetRate, bitrate: missing * bitrate, consumers: missing }, this.#context.estimatorPacketCost);
  }

  /**
   * A receive transport for an edge subscriber due `due` consumers (the home's count), on the
   * WebRtcServer of the worker its router is on; a subscriber's later transports stay on its router.
   */
  async createTransport(subscriberId: string, due: number): Promise<TransportInfo> {
    this.#assertOpen();
    let subscriber = this.#subscribers.get(subscriberId);
    if (!subscriber || subscriber.router.closed) {
      subscriber = new EdgeSubscriber(subscriberId, this.#place(), due);
      subscriber.router.placed.add(subscriber);
      this.#subscribers.set(subscriberId, subscriber);
    }
    const { router: placedOn } = subscriber;
    let transport: types.WebRtcTransport;
    try {
      const router = await placedOn.ready();
      this.#assertOpen();
      transport = await router.createWebRtcTransport({
        webRtcServer: placedOn.host.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: this.#options.initialAvailableOutgoingBitrate,
        appData: { direction: 'recv', subscriberId },
      });
    } catch (error) {
      this.#forgetIfIdle(subscriberId, subscriber);
      throw error;
    }
    // Closed meanwhile (closeSubscriber came first): a transport nobody can close any more is not kept.
    if (this.#subscribers.get(subscriberId) !== subscriber) {
      transport.close();
      throw new SfuError('closed', `edge subscriber ${subscriberId} left while its transport was being made`);
    }
    this.#transports.set(transport.id, { subscriber, transport });
    placedOn.host.senders.add(transport);
    transport.observer.once('close', () => {
      this.#transports.delete(transport.id);
      placedOn.host.senders.delete(transport);
      this.#forgetIfIdle(subscriberId, subscriber);
    });
    return { id: transport.id, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
  }

  /** Connect an edge transport with the browser's DTLS parameters. */
  async connectTransport(transportId: string, dtlsParameters: object): Promise<void> {
    const { transport } = this.#transport(transportId);
    await rejectedOnError('connect', () => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
  }

  /** New ICE credentials for an edge transport. */
  async restartIce(transportId: string): Promise<types.IceParameters> {
    const { transport } = this.#transport(transportId);
    return rejectedOnError('restartIce', () => transport.restartIce());
  }

  /** A paused consumer of a piped track, on the subscriber's router (the track piped there first if need be). */
  async consume(transportId: string, trackId: string, rtpCapabilities: object): Promise<EdgeConsumerInfo> {
    const { subscriber, transport } = this.#transport(transportId);
    const track = this.#producers.get(trackId);
    if (!track) throw new SfuError('not_found', `track ${trackId} is not piped here`);
    const capabilities = rtpCapabilities as types.RtpCapabilities;
    const host = subscriber.router.host;
    host.consumers += 1;
    subscriber.count(trackId, 1);
    let consumer: types.Consumer;
    try {
      await rejectedOnError('pipe to worker', () => subscriber.router.pipeFrom(this.#first, track));
      const router = await subscriber.router.ready();
      if (!router.canConsume({ producerId: trackId, rtpCapabilities: capabilities })) throw new SfuError('cannot_consume', `this device cannot decode track ${trackId}`);
      consumer = await rejectedOnError('consume', () => transport.consume({ producerId: trackId, rtpCapabilities: capabilities, paused: true }));
    } catch (error) {
      host.consumers -= 1;
      subscriber.count(trackId, -1);
      throw error;
    }
    this.#consumers.set(consumer.id, { subscriber, consumer });
    consumer.observer.once('close', () => {
      host.consumers -= 1;
      subscriber.count(trackId, -1);
      this.#consumers.delete(consumer.id);
    });
    return { id: consumer.id, kind: consumer.kind, type: consumer.type, rtpParameters: consumer.rtpParameters, producerPaused: consumer.producerPaused };
  }

  /** Pause, resume or close an edge consumer (closing one already gone is done). */
  async consumer(consumerId: string, action: 'pause' | 'resume' | 'close'): Promise<void> {
    const consumer = this.#consumers.get(consumerId)?.consumer;
    if (!consumer) {
      if (action === 'close') return;
      throw new SfuError('not_found', `no consumer ${consumerId}`);
    }
    if (action === 'close') consumer.close();
    else if (action === 'pause') await consumer.pause();
    else await consumer.resume();
  }

  /** Cap an edge consumer's layers. */
  async preferLayers(consumerId: string, spatialLayer: number, temporalLayer: number): Promise<void> {
    const consumer = this.#consumers.get(consumerId)?.consumer;
    if (!consumer) throw new SfuError('not_found', `no consumer ${consumerId}`);
    await consumer.setPreferredLayers({ spatialLayer, temporalLayer });
  }

  /** Close every transport of one edge subscriber (a router nobody is on any more closes with it). */
  closeSubscriber(subscriberId: string): void {
    const subscriber = this.#subscribers.get(subscriberId);
    if (!subscriber) return;
    for (const entry of [...this.#transports.values()]) if (entry.subscriber === subscriber) entry.transport.close();
    this.#forgetIfIdle(subscriberId, subscriber);
  }

  /** Close every router and everything on them. Idempotent; emits `close` once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const router of [...this.#routers]) router.close();
    this.#subscribers.clear();
    this.emit('close');
  }

  get #first(): RoomRouter {
    return this.#routers[0]!;
  }

  /**
   * The router a new edge subscriber goes on, by the home's rule (RoomMedia): the first of the
   * room's routers below the spread threshold on a worker that is not full; else a new router on
   * the least loaded worker of this node the room is not on yet; else the least loaded of its routers.
   */
  #place(): RoomRouter {
    const { placement, spreadConsumers, mediaCodecs } = this.#context;
    const tracks = this.#trackCounts();
    const live = this.#routers.filter((r) => !r.closed);
    const chosen = live.find((r) => routerLoad(r, tracks) < spreadConsumers && placement.score(r.host) < 1);
    if (chosen) return chosen;
    const fresh = placement.leastLoaded(new Set(live.map((r) => r.host)));
    if (fresh && placement.score(fresh) < 1) {
      const router = RoomRouter.start(fresh, this.roomName, mediaCodecs, EDGE_ROUTER);
      this.#routers.push(router);
      this.#watch(router);
      return router;
    }
    return live.reduce((a, b) => (placement.score(b.host) < placement.score(a.host) ? b : a));
  }

  /** A subscriber with no transport left is no longer counted; a router other than the first with nobody on it closes. */
  #forgetIfIdle(subscriberId: string, subscriber: EdgeSubscriber): void {
    if (this.#closed) return;
    if ([...this.#transports.values()].some((t) => t.subscriber === subscriber)) return;
    subscriber.router.placed.delete(subscriber);
    if (this.#subscribers.get(subscriberId) === subscriber) this.#subscribers.delete(subscriberId);
    for (let i = this.#routers.length - 1; i > 0; i--) {
      const router = this.#routers[i]!;
      if (router.placed.size > 0 && !router.closed) continue;
      router.close();
      this.#routers.splice(i, 1);
    }
  }

  /** A router that closes by itself (its worker died) ends the edge room: the home moves its subscribers. */
  #watch(router: RoomRouter): void {
    router.ready().then(
      (r) => r.observer.once('close', () => {
        if (!router.closed) this.close();
      }),
      () => undefined, // the subscriber placed there is refused; the room goes on
    );
  }

  /** Tracks piped here, by kind. */
  #trackCounts(): TrackCounts {
    const counts = { audio: 0, video: 0 };
    for (const track of this.#producers.values()) counts[track.kind]++;
    return counts;
  }

  #transport(id: string): { subscriber: EdgeSubscriber; transport: types.WebRtcTransport } {
    this.#assertOpen();
    const entry = this.#transports.get(id);
    if (!entry) throw new SfuError('not_found', `no transport ${id}`);
    return entry;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('closed', `edge media of room ${this.roomName} is closed`);
  }
}
