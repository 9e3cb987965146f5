// The home node's end of a media pipe to an edge node: a mediasoup PipeTransport on the router a
// track is published on, SRTP and RTX on (the edge's end has them on too: both must agree, or the
// far side cannot decrypt or repair), listening on the host's private address. Each track the edge
// needs is consumed into the pipe once and produced on the edge under the same id; the publisher
// muting, unmuting or ending it is told to the edge, whose consumers follow. Residency is decided
// before one is opened (the server picks only in-country edges); this class only carries media.
import type { types } from 'mediasoup';
import type { EdgeLink, EdgePipeState, PipeListen } from './EdgeLink.js';
import { trackProducer, type Track } from './Track.js';
import { countForwarding } from './countedConsumer.js';
import type { PooledWorker } from './WorkerPool.js';

/** Where the home end sits: its worker and the room's router on it (each track sent is a consumer counted there). */
export interface PipeSource {
  host: PooledWorker;
  /** The room's router (RoomRouter) the pipe is on, to count its consumers against. */
  place: object;
}

/** What the home end of a pipe reports (from mediasoup's dump of it). */
export interface PipeState extends EdgePipeState {
  /** The edge node it goes to. */
  edgeNodeId: string;
}

/** One pipe from one home router to one edge node, for one room. */
export class RemotePipe {
  readonly #link: EdgeLink;
  readonly #transport: types.PipeTransport;
  readonly #source: PipeSource;
  /** Tracks sent (or being sent) into the pipe, by id. */
  readonly #sent = new Map<string, Promise<void>>();
  #closed = false;

  /** Open both ends: here on `router`, there through the link, and connect them. */
  static async open(router: types.Router, link: EdgeLink, listen: PipeListen, source: PipeSource): Promise<RemotePipe> {
    const transport = await router.createPipeTransport({
      listenInfo: { protocol: 'udp', ip: listen.ip, portRange: { min: listen.portMin, max: listen.portMax } },
      enableSrtp: true,
      enableRtx: true,
    });
    try {
      const far = await link.openPipe(transport.id, { ip: transport.tuple.localAddress, port: transport.tuple.localPort, srtpParameters: transport.srtpParameters! });
      await transport.connect({ ip: far.ip, port: far.port, srtpParameters: far.srtpParameters });
    } catch (error) {
      transport.close();
      await link.closePipe(transport.id).catch(() => undefined);
      throw error;
    }
    return new RemotePipe(link, transport, source);
  }

  private constructor(link: EdgeLink, transport: types.PipeTransport, source: PipeSource) {
    this.#link = link;
    this.#transport = transport;
    this.#source = source;
    transport.observer.once('close', () => this.close());
  }

  /** The pipe's id (the home transport's id; the edge names its end by it). */
  get id(): string {
    return this.#transport.id;
  }

  /** Whether it is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Make a track published on this pipe's router consumable on the edge; once per track. */
  send(track: Track): Promise<void> {
    let pending = this.#sent.get(track.id);
    if (pending) return pending;
    pending = this.#send(track);
    this.#sent.set(track.id, pending);
    pending.catch(() => this.#sent.delete(track.id));
    return pending;
  }

  async #send(track: Track): Promise<void> {
    const producer = trackProducer(track);
    // Load on the home's worker like any consumer (every layer, as a pipe forwards them all): placement
    // and admission must see what the room sends to its edges.
    const counted = countForwarding(this.#source.host, track.id, { kind: track.kind, pipe: true, router: this.#source.place });
    let consumer: types.Consumer;
    try {
      consumer = await this.#transport.consume({ producerId: track.id });
    } catch (error) {
      counted.uncount();
      throw error;
    }
    counted.made(consumer);
    consumer.observer.once('close', () => counted.uncount());
    const tell = (state: 'paused' | 'resumed' | 'closed') => void this.#link.trackState(track.id, state).catch(() => undefined); // edge gone: its watchdog handles it
    consumer.on('producerpause', () => tell('paused'));
    consumer.on('producerresume', () => tell('resumed'));
    consumer.observer.once('close', () => {
      this.#sent.delete(track.id);
      if (!this.#closed) tell('closed');
    });
    await this.#link.produce(this.id, {
      id: track.id,
      kind: track.kind,
      source: track.source,
      peerId: track.peerId,
      rtpParameters: consumer.rtpParameters,
      paused: producer.paused,
    });
  }

  /** Both ends as mediasoup reports them: SRTP and RTX here, and on the edge. */
  async state(): Promise<{ home: PipeState; edge: EdgePipeState | undefined }> {
    const dump = await this.#transport.dump();
    // An edge that does not answer reports nothing: its end counts as not proven (SRTP false).
    const edge = (await this.#link.pipes().catch(() => [])).find((p) => p.id === this.id);
    return {
      home: { id: this.id, edgeNodeId: this.#link.nodeId, srtp: dump.srtpParameters !== undefined, rtx: dump.rtx, producers: dump.consumerIds.length },
      edge,
    };
  }

  /** Close both ends. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
    void this.#link.closePipe(this.id).catch(() => undefined);
  }
}
