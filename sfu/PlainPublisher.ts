// A publisher that is not a browser: tracks sent as plain RTP into a PlainTransport (comedia by
// default: the SFU answers wherever the sender's packets come from). The bench's RTP generator and
// any other RTP source (an encoder, a lecture-hall camera) publish into a room through it; its
// tracks are fanned out like a browser's (RoomMedia.distribute).
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { SfuError, rejectedOnError } from './SfuError.js';
import { Track, trackProducer, type TrackAppData, type TrackKind, type TrackProducer, type TrackSource } from './Track.js';
import type { ClientParameters } from './PeerMedia.js';
import type { RoomRouter } from './RoomRouter.js';

/** Events of a PlainPublisher. */
export type PlainPublisherEvents = {
  /** One of its tracks ended. */
  unpublished: [track: Track];
  /** It is gone. Emitted once. */
  close: [];
};

/** Set by the room when it adds the publisher. */
export interface PlainPublisherContext {
  /** Where the room puts it: asked once, at open(). */
  place: () => Promise<RoomRouter>;
  /** Address the transport listens on (the media workers' listen IP). */
  listenIp: string;
  /** Called with every track it publishes, once it exists. */
  onPublished: (track: Track) => void;
}

/** A room publisher over a PlainTransport. */
export class PlainPublisher extends TypedEmitter<PlainPublisherEvents> {
  /** Unique in its room; its tracks name it as their publisher. */
  readonly id: string;
  /** It receives nothing; as a placed subscriber it has no transport that estimates. */
  readonly estimatesBandwidth = false;
  readonly #context: PlainPublisherContext;
  #host: RoomRouter | undefined;
  #transport: types.PlainTransport | undefined;
  #opening: Promise<{ ip: string; port: number; rtcpPort?: number }> | undefined;
  readonly #tracks = new Map<string, Track>();
  #closed = false;

  /** Made by RoomMedia.addPlainPublisher; not created directly. */
  constructor(id: string, context: PlainPublisherContext) {
    super();
    this.id = id;
    this.#context = context;
  }

  /** Placed on no router's subscriber count: it receives nothing. */
  expectedSubscriptions(): number {
    return 0;
  }

  /** None: it receives nothing. */
  readonly subscriptions: ReadonlyMap<string, never> = new Map<string, never>();

  /** It receives nothing. */
  subscribes(): boolean {
    return false;
  }

  /** The router the room placed it on, once placed. */
  get placement(): RoomRouter | undefined {
    return this.#host;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Its live tracks by id. */
  get tracks(): ReadonlyMap<string, Track> {
    return this.#tracks;
  }

  /**
   * Be placed and open the transport; returns where to send. With `to`, the SFU sends its RTCP
   * there; without, it latches onto the first packet's source (comedia). `rtcpMux: false` (for
   * senders like ffmpeg that send RTCP from a second socket, which comedia would otherwise latch
   * onto) gives RTCP a port of its own.
   */
  open(options: { to?: { ip: string; port: number }; rtcpMux?: boolean } = {}): Promise<{ ip: string; port: number; rtcpPort?: number }> {
    if (this.#closed) return Promise.reject(new SfuError('closed', `publisher ${this.id} is closed`));
    const { to, rtcpMux = true } = options;
    this.#opening ??= (async () => {
      const host = await this.#context.place();
      this.#host = host;
      const router = await host.ready();
      const transport = await rejectedOnError('plain transport', () =>
        router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: this.#context.listenIp }, rtcpMux, comedia: !to }),
      );
      if (this.#closed) {
        transport.close();
        throw new SfuError('closed', `publisher ${this.id} closed while opening its transport`);
      }
      if (to) await rejectedOnError('plain connect', () => transport.connect(to));
      this.#transport = transport;
      return {
        ip: transport.tuple.localAddress ?? transport.tuple.localIp,
        port: transport.tuple.localPort,
        ...(transport.rtcpTuple ? { rtcpPort: transport.rtcpTuple.localPort } : {}),
      };
    })();
    return this.#opening;
  }

  /** Take a track sent with these RTP parameters (codec, SSRC); RoomMedia.distribute() then fans it out. */
  async publish(kind: TrackKind, rtpParameters: ClientParameters, source: TrackSource): Promise<Track> {
    if (this.#closed) throw new SfuError('closed', `publisher ${this.id} is closed`);
    const transport = this.#transport;
    if (!transport) throw new SfuError('rejected', `publisher ${this.id} has not opened its transport`);
    const producer: TrackProducer = await rejectedOnError('produce', () =>
      transport.produce<TrackAppData>({ kind, rtpParameters: rtpParameters as types.RtpParameters, appData: { source, peerId: this.id } }),
    );
    if (this.#closed) {
      producer.close();
      throw new SfuError('closed', `publisher ${this.id} closed while producing`);
    }
    const track = new Track(producer);
    this.#tracks.set(track.id, track);
    producer.observer.once('close', () => {
      this.#tracks.delete(track.id);
      this.emit('unpublished', track);
    });
    this.#context.onPublished(track);
    return track;
  }

  /** End one of its tracks; every subscription to it ends too (on every router it was piped to). */
  unpublish(trackId: string): void {
    const track = this.#tracks.get(trackId);
    if (!track) throw new SfuError('not_found', `no track ${trackId}`);
    trackProducer(track).close();
  }

  /** Close the transport (and so its tracks) and leave the router. Idempotent; emits `close` once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport?.close();
    this.#host?.placed.delete(this);
    this.emit('close');
  }
}
