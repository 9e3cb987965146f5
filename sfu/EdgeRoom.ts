// A room as an edge node carries it for its home node: one router, the pipes from the home node
// (mediasoup PipeTransports with SRTP and RTX on, on the private address), the home's tracks produced
// on them under their own ids, and the receive transports and consumers of the subscribers the home
// placed here. No room state lives here: the home node decides who receives what and tells this
// node over the control channel; every id handed in is looked up in this room's own maps only.
import type { types } from 'mediasoup';
import { SfuError, rejectedOnError } from './SfuError.js';
import type { PooledWorker } from './WorkerPool.js';
import type { TransportInfo } from './PeerMedia.js';
import type { EdgeConsumerInfo, EdgePipeState, PipeEnd, PipedTrack, PipeListen } from './EdgeLink.js';
import type { TrackAppData } from './Track.js';

/** Limits of the edge transports (the home's media settings). */
export interface EdgeRoomOptions {
  initialAvailableOutgoingBitrate: number;
  pipeListen: PipeListen;
}

/** One home room's media on this (edge) node. */
export class EdgeRoom {
  /** The room's name on its home node. */
  readonly roomName: string;
  readonly #host: PooledWorker;
  readonly #router: types.Router;
  readonly #options: EdgeRoomOptions;
  readonly #pipes = new Map<string, types.PipeTransport>();
  readonly #producers = new Map<string, types.Producer<TrackAppData>>();
  readonly #transports = new Map<string, { subscriberId: string; transport: types.WebRtcTransport }>();
  readonly #consumers = new Map<string, types.Consumer>();
  #closed = false;

  /** A router for the room on `host`. */
  static async create(roomName: string, host: PooledWorker, mediaCodecs: types.RouterRtpCodecCapability[], options: EdgeRoomOptions): Promise<EdgeRoom> {
    host.routers += 1;
    try {
      const router = await host.worker.createRouter({ mediaCodecs, appData: { roomName, edge: true } });
      return new EdgeRoom(roomName, host, router, options);
    } catch (error) {
      host.routers -= 1;
      throw error;
    }
  }

  private constructor(roomName: string, host: PooledWorker, router: types.Router, options: EdgeRoomOptions) {
    this.roomName = roomName;
    this.#host = host;
    this.#router = router;
    this.#options = options;
    router.observer.once('close', () => this.close());
  }

  /** Whether it is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Edge subscribers with a transport here. */
  get subscriberCount(): number {
    return new Set([...this.#transports.values()].map((t) => t.subscriberId)).size;
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
    const pipe = await this.#router.createPipeTransport({
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
    this.#producers.set(track.id, producer);
    producer.observer.once('close', () => this.#producers.delete(track.id));
  }

  /** The publisher muted, unmuted or ended a track: its consumers here follow. */
  async trackState(trackId: string, state: 'paused' | 'resumed' | 'closed'): Promise<void> {
    const producer = this.#producers.get(trackId);
    if (!producer) return; // ended already, or never piped here
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

  /** A receive transport for an edge subscriber, on this worker's WebRtcServer. */
  async createTransport(subscriberId: string): Promise<TransportInfo> {
    this.#assertOpen();
    const transport = await this.#router.createWebRtcTransport({
      webRtcServer: this.#host.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.#options.initialAvailableOutgoingBitrate,
      appData: { direction: 'recv', subscriberId },
    });
    this.#transports.set(transport.id, { subscriberId, transport });
    this.#host.senders.add(transport);
    transport.observer.once('close', () => {
      this.#transports.delete(transport.id);
      this.#host.senders.delete(transport);
    });
    return { id: transport.id, iceParameters: transport.iceParameters, iceCandidates: transport.iceCandidates, dtlsParameters: transport.dtlsParameters };
  }

  /** Connect an edge transport with the browser's DTLS parameters. */
  async connectTransport(transportId: string, dtlsParameters: object): Promise<void> {
    const transport = this.#transport(transportId);
    await rejectedOnError('connect', () => transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
  }

  /** New ICE credentials for an edge transport. */
  async restartIce(transportId: string): Promise<types.IceParameters> {
    const transport = this.#transport(transportId);
    return rejectedOnError('restartIce', () => transport.restartIce());
  }

  /** A paused consumer of a piped track. */
  async consume(transportId: string, trackId: string, rtpCapabilities: object): Promise<EdgeConsumerInfo> {
    const transport = this.#transport(transportId);
    if (!this.#producers.has(trackId)) throw new SfuError('not_found', `track ${trackId} is not piped here`);
    const capabilities = rtpCapabilities as types.RtpCapabilities;
    if (!this.#router.canConsume({ producerId: trackId, rtpCapabilities: capabilities })) throw new SfuError('cannot_consume', `this device cannot decode track ${trackId}`);
    this.#host.consumers += 1;
    let consumer: types.Consumer;
    try {
      consumer = await rejectedOnError('consume', () => transport.consume({ producerId: trackId, rtpCapabilities: capabilities, paused: true }));
    } catch (error) {
      this.#host.consumers -= 1;
      throw error;
    }
    this.#consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => {
      this.#host.consumers -= 1;
      this.#consumers.delete(consumer.id);
    });
    return { id: consumer.id, kind: consumer.kind, type: consumer.type, rtpParameters: consumer.rtpParameters, producerPaused: consumer.producerPaused };
  }

  /** Pause, resume or close an edge consumer (closing one already gone is done). */
  async consumer(consumerId: string, action: 'pause' | 'resume' | 'close'): Promise<void> {
    const consumer = this.#consumers.get(consumerId);
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
    const consumer = this.#consumers.get(consumerId);
    if (!consumer) throw new SfuError('not_found', `no consumer ${consumerId}`);
    await consumer.setPreferredLayers({ spatialLayer, temporalLayer });
  }

  /** Close every transport of one edge subscriber. */
  closeSubscriber(subscriberId: string): void {
    for (const { subscriberId: owner, transport } of [...this.#transports.values()]) if (owner === subscriberId) transport.close();
  }

  /** Close the router and everything on it. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#host.routers -= 1;
    this.#router.close();
  }

  #transport(id: string): types.WebRtcTransport {
    this.#assertOpen();
    const entry = this.#transports.get(id);
    if (!entry) throw new SfuError('not_found', `no transport ${id}`);
    return entry.transport;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('closed', `edge media of room ${this.roomName} is closed`);
  }
}
