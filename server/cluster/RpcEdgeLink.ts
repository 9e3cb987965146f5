// One room on one edge node, driven over the control channel: the EdgeLink the media plane calls,
// each call a signed request to the edge's internal listener naming the room.
import type { EdgeConsumerInfo, EdgeLink, EdgePipeState, EdgeRouterState, PipeEnd, PipedTrack, TransportInfo } from '../../sfu/index.js';
import type { InternalClient } from './InternalClient.js';

/** An EdgeLink over the internal RPC. */
export class RpcEdgeLink implements EdgeLink {
  readonly nodeId: string;
  readonly #room: string;
  readonly #base: string;
  readonly #client: InternalClient;

  /** `base`: http://privateAddress:rpcPort of the edge node. */
  constructor(nodeId: string, base: string, room: string, client: InternalClient) {
    this.nodeId = nodeId;
    this.#base = base;
    this.#room = room;
    this.#client = client;
  }

  async openPipe(pipeId: string, home: PipeEnd): Promise<PipeEnd> {
    const far = await this.#client.call(this.nodeId, this.#base, 'openPipe', { room: this.#room, pipeId, home: { ip: home.ip, port: home.port, srtpParameters: { ...home.srtpParameters } } });
    return far;
  }

  async produce(pipeId: string, track: PipedTrack): Promise<void> {
    await this.#client.call(this.nodeId, this.#base, 'produce', { room: this.#room, pipeId, track: { ...track, rtpParameters: { ...track.rtpParameters } } });
  }

  async trackState(trackId: string, state: 'paused' | 'resumed' | 'closed'): Promise<void> {
    await this.#client.call(this.nodeId, this.#base, 'trackState', { room: this.#room, trackId, state });
  }

  async closePipe(pipeId: string): Promise<void> {
    await this.#client.call(this.nodeId, this.#base, 'closePipe', { room: this.#room, pipeId });
  }

  async pipes(): Promise<EdgePipeState[]> {
    return (await this.#client.call(this.nodeId, this.#base, 'pipes', { room: this.#room })).pipes;
  }

  /** The room's routers on the edge node, as its mediasoup reports them (for the audit). */
  async routers(): Promise<EdgeRouterState[]> {
    return (await this.#client.call(this.nodeId, this.#base, 'routers', { room: this.#room })).routers;
  }

  async createTransport(subscriberId: string, due: number): Promise<TransportInfo> {
    const info = await this.#client.call(this.nodeId, this.#base, 'createTransport', { room: this.#room, subscriberId, due });
    // Schema-checked as objects; the browser's mediasoup-client reads the content, as for a home transport.
    return info as unknown as TransportInfo;
  }

  async connectTransport(transportId: string, dtlsParameters: object): Promise<void> {
    await this.#client.call(this.nodeId, this.#base, 'connectTransport', { room: this.#room, transportId, dtlsParameters: { ...dtlsParameters } });
  }

  async restartIce(transportId: string): ReturnType<EdgeLink['restartIce']> {
    const { iceParameters } = await this.#client.call(this.nodeId, this.#base, 'restartIce', { room: this.#room, transportId });
    return iceParameters as unknown as Awaited<ReturnType<EdgeLink['restartIce']>>;
  }

  async consume(transportId: string, trackId: string, rtpCapabilities: object): Promise<EdgeConsumerInfo> {
    const info = await this.#client.call(this.nodeId, this.#base, 'consume', { room: this.#room, transportId, trackId, rtpCapabilities: { ...rtpCapabilities } });
    return info as unknown as EdgeConsumerInfo;
  }

  async consumer(consumerId: string, action: 'pause' | 'resume' | 'close'): Promise<void> {
    await this.#client.call(this.nodeId, this.#base, 'consumer', { room: this.#room, consumerId, action });
  }

  async preferLayers(consumerId: string, spatialLayer: number, temporalLayer: number): Promise<void> {
    await this.#client.call(this.nodeId, this.#base, 'preferLayers', { room: this.#room, consumerId, spatialLayer, temporalLayer });
  }

  async closeSubscriber(subscriberId: string): Promise<void> {
    await this.#client.call(this.nodeId, this.#base, 'closeSubscriber', { room: this.#room, subscriberId });
  }
}
