// A class in progress: its participants and the wiring between them. When one participant sends a
// track, every ready participant gets a consumer for it; when someone leaves, everyone is told.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { TypedEmitter, type RoomMedia, type TrackProducer, type TrackConsumer, type mediasoupTypes } from '../../sfu/index.js';
import type { PeerInfo } from '../../protocol/index.js';
import { Peer, type Notifier } from './Peer.js';
import { SignallingError } from '../signalling/SignallingError.js';

/** Events of a Room. */
export type RoomEvents = {
  /** The last participant left. */
  empty: [];
  /** The room closed (idempotent; emitted once). */
  close: [reason: string];
  /** A participant left (for sessions to forget the room). */
  peerLeft: [peer: Peer];
};

/** One room: participants plus its media. */
export class Room extends TypedEmitter<RoomEvents> {
  /** The name in /r/<name>. */
  readonly name: string;
  readonly #media: RoomMedia;
  readonly #maxPeers: number;
  readonly #log: FastifyBaseLogger;
  readonly #peers = new Map<string, Peer>();
  #closed = false;

  constructor(name: string, media: RoomMedia, maxPeers: number, log: FastifyBaseLogger) {
    super();
    this.name = name;
    this.#media = media;
    this.#maxPeers = maxPeers;
    this.#log = log.child({ room: name });
    media.once('close', (reason) => this.close(reason === 'worker-died' ? 'media worker restarted' : 'closed'));
  }

  /** Number of participants, ready or not. */
  get size(): number {
    return this.#peers.size;
  }

  /** Whether the room is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The router's capabilities, for clients to load their Device. */
  get rtpCapabilities(): mediasoupTypes.RtpCapabilities {
    return this.#media.rtpCapabilities;
  }

  /** Add a participant (not yet visible to others until ready). */
  admit(displayName: string, notifier: Notifier): Peer {
    if (this.#closed) throw new SignallingError('unavailable', 'this room is closing; join again');
    if (this.#peers.size >= this.#maxPeers) throw new SignallingError('room_full', `room ${this.name} is full`);
    const id = randomUUID();
    const peer = new Peer(id, displayName, this.#media.addPeer(id), notifier);
    this.#peers.set(id, peer);
    this.#wireConsumerEvents(peer);
    this.#log.info({ peer: id, peers: this.#peers.size }, 'peer admitted');
    return peer;
  }

  /**
   * The participant can now receive media: tell the others, and return who is already here.
   * Consumers for existing tracks are created by `consumeExisting` after the reply is sent.
   */
  markReady(peer: Peer, rtpCapabilities: mediasoupTypes.RtpCapabilities): PeerInfo[] {
    if (peer.ready) throw new SignallingError('already_joined', 'ready was already sent');
    peer.markReady(rtpCapabilities);
    const others = this.#readyPeers(peer);
    for (const other of others) other.notify('peerJoined', { peer: peer.info() });
    return others.map((other) => other.info());
  }

  /** Give a newly ready participant a consumer for every track already in the room. */
  async consumeExisting(peer: Peer): Promise<void> {
    for (const other of this.#readyPeers(peer)) {
      for (const producer of other.media.producers.values()) await this.#consume(peer, producer);
    }
  }

  /** Someone started sending: every other ready participant receives it. */
  async distribute(from: Peer, producer: TrackProducer): Promise<void> {
    await Promise.all(this.#readyPeers(from).map((peer) => this.#consume(peer, producer)));
  }

  /** Remove a participant, close their media and tell the others. */
  remove(peer: Peer): void {
    if (this.#peers.get(peer.id) !== peer) return;
    this.#peers.delete(peer.id);
    peer.media.close();
    if (peer.ready) for (const other of this.#readyPeers(peer)) other.notify('peerLeft', { peerId: peer.id });
    this.#log.info({ peer: peer.id, peers: this.#peers.size }, 'peer left');
    this.emit('peerLeft', peer);
    if (this.#peers.size === 0 && !this.#closed) this.emit('empty');
  }

  /** Close the room: tell everyone, drop them, release the router. Idempotent. */
  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of [...this.#peers.values()]) {
      peer.notify('roomClosed', { reason });
      this.#peers.delete(peer.id);
      peer.media.close();
      this.emit('peerLeft', peer);
    }
    this.#media.close();
    this.#log.info({ reason }, 'room closed');
    this.emit('close', reason);
  }

  #readyPeers(except: Peer): Peer[] {
    return [...this.#peers.values()].filter((p) => p.ready && p !== except);
  }

  async #consume(peer: Peer, producer: TrackProducer): Promise<void> {
    const rtpCapabilities = peer.rtpCapabilities;
    if (!rtpCapabilities || peer.media.closed || producer.closed) return;
    let consumer: TrackConsumer;
    try {
      consumer = await peer.media.consume(producer, rtpCapabilities);
    } catch (error) {
      // One participant who cannot decode a track must not stop the others from getting it.
      this.#log.warn({ peer: peer.id, producer: producer.id, err: error }, 'cannot create consumer');
      return;
    }
    peer.notify('consumerAdded', {
      consumerId: consumer.id,
      producerId: producer.id,
      peerId: producer.appData.peerId,
      kind: consumer.kind,
      source: producer.appData.source,
      rtpParameters: { ...consumer.rtpParameters },
      producerPaused: consumer.producerPaused,
    });
  }

  #wireConsumerEvents(peer: Peer): void {
    const media = peer.media;
    media.on('consumerClosed', (c) => peer.notify('consumerClosed', { consumerId: c.id }));
    media.on('consumerPaused', (c) => peer.notify('consumerPaused', { consumerId: c.id }));
    media.on('consumerResumed', (c) => peer.notify('consumerResumed', { consumerId: c.id }));
  }
}
