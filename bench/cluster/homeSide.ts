// The home node's part of the cluster fan-out: the room (Sfu.createRoomMedia), the generator's
// VP8 + opus through the product's PlainPublisher, and plain SRTP subscribers added through
// RoomMedia.addPlainSubscriber until the product's admission refuses one `at_capacity`. Past that
// point the product decides as its join handler does (server/signalling/handlers/join.ts: a room
// full for this joiner asks EdgeNode.place for an edge): EdgeNode.place() picks the live,
// in-country edge from the Redis registry and reserves a place there over the signed control
// channel. Plain subscribers have no browser half on the home node, so the pipe is opened by one
// participant of the product's own kind: an EdgePeerMedia (RoomMedia.addPeer with the edge place),
// whose subscriptions make the room open its RemotePipe to that edge (SRTP + RTX PipeTransports,
// RpcEdgeLink -> InternalServer -> EdgeService -> EdgeRoom) and produce the room's tracks there,
// exactly as for a student placed on the edge. Its own receive transport on the edge is never
// connected (no ICE, no DTLS), so it receives nothing; the edge's subscribers are the bench's
// plain ones there (edgeSide.ts).
import { SfuError, type EdgePlace, type PeerMedia, type PlainSubscriber, type RoomMedia, type Sfu, type Subscription } from '../../sfu/index.js';
import type { EdgeNode } from '../../server/cluster/EdgeNode.js';
import { publishGenerator } from '../lectern/LecternFanout.js';
import type { Added, AddSubscribers, PipeReport, SinkStream } from './nodeProtocol.js';

/** The one room of the scenario. */
const ROOM = 'lecture';
/** Subscribers opened at once. */
const BATCH = 50;

/** The home node's room, publisher and subscribers. */
export class HomeSide {
  readonly roomName = ROOM;
  /** Where the generator sends. */
  readonly publisher: { host: string; port: number };
  readonly #room: RoomMedia;
  readonly #edges: EdgeNode;
  readonly #subscribers: PlainSubscriber[] = [];
  /** The participant on each edge whose subscriptions opened the room's pipe there, by edge node id. */
  readonly #pipeOpeners = new Map<string, Promise<PeerMedia>>();

  /** The room and the generator's tracks in it. */
  static async create(sfu: Sfu, edges: EdgeNode): Promise<HomeSide> {
    const room = await sfu.createRoomMedia(ROOM);
    const { target } = await publishGenerator(room);
    return new HomeSide(room, edges, target);
  }

  private constructor(room: RoomMedia, edges: EdgeNode, publisher: { host: string; port: number }) {
    this.#room = room;
    this.#edges = edges;
    this.publisher = publisher;
  }

  /** Plain subscribers receiving on this node. */
  get subscribers(): number {
    return this.#subscribers.length;
  }

  /** Add subscribers: here while admission takes them, then on the edge the product places them on. */
  async addSubscribers(request: AddSubscribers): Promise<Added> {
    const added: Added = { streams: [], here: 0, toEdge: [], refused: 0 };
    for (let first = 0; first < request.count; first += BATCH) {
      const opening: Promise<SinkStream[]>[] = [];
      let full = 0;
      for (let i = first; i < Math.min(request.count, first + BATCH); i++) {
        const port = request.ports[i % request.ports.length]!;
        try {
          const subscriber = this.#room.addPlainSubscriber(`${request.prefix}${i}`, { srtpSuite: request.suite });
          this.#subscribers.push(subscriber);
          opening.push(this.#open(subscriber, port));
        } catch (error) {
          if (!(error instanceof SfuError) || error.reason !== 'at_capacity') throw error;
          added.homeFull ??= error.message;
          full++;
        }
      }
      for (const streams of await Promise.all(opening)) added.streams.push(...streams);
      added.here += opening.length;
      for (let k = 0; k < full; k++) {
        const place = await this.#edges.place(ROOM);
        if (!place) {
          added.refused++;
          continue;
        }
        await this.#openPipe(place);
        const entry = added.toEdge.find((e) => e.nodeId === place.link.nodeId);
        if (entry) entry.count++;
        else added.toEdge.push({ nodeId: place.link.nodeId, count: 1 });
      }
    }
    return added;
  }

  async #open(subscriber: PlainSubscriber, port: number): Promise<SinkStream[]> {
    const info = await subscriber.open({ ip: '127.0.0.1', port });
    await this.#room.catchUp(subscriber.id);
    if (!info.srtp) throw new Error(`subscriber ${subscriber.id}: no SRTP key`);
    return [...subscriber.subscriptions.values()].map((s) => ({ subscriber: subscriber.id, port, ssrc: ssrcOf(s), keyBase64: info.srtp!.keyBase64 }));
  }

  /** The room's pipe to this edge, opened through an edge participant the first time. */
  #openPipe(place: EdgePlace): Promise<PeerMedia> {
    const nodeId = place.link.nodeId;
    let pending = this.#pipeOpeners.get(nodeId);
    if (!pending) {
      pending = this.#pipeOpener(place);
      this.#pipeOpeners.set(nodeId, pending);
    }
    return pending;
  }

  async #pipeOpener(place: EdgePlace): Promise<PeerMedia> {
    const id = `pipe-opener-${place.link.nodeId}`;
    const failures: string[] = [];
    const onFailed = (subscriberId: string, trackId: string, error: unknown) => {
      if (subscriberId === id) failures.push(`${trackId}: ${(error as Error).message}`);
    };
    this.#room.on('subscribeFailed', onFailed);
    try {
      const peer = this.#room.addPeer(id, undefined, place);
      await peer.createTransport('recv');
      peer.receiveWith(this.#room.rtpCapabilities);
      await this.#room.catchUp(id);
      const due = this.#room.tracks().length;
      if (peer.subscriptions.size < due) throw new Error(`the pipe to ${place.link.nodeId} did not carry every track (${peer.subscriptions.size} of ${due}): ${failures.join('; ')}`);
      return peer;
    } finally {
      this.#room.off('subscribeFailed', onFailed);
    }
  }

  /** Let every subscription flow (the sink holds their keys now). */
  async resumeAll(): Promise<void> {
    await Promise.all(this.#subscribers.flatMap((s) => [...s.subscriptions.values()].map((sub) => s.resume(sub.id))));
  }

  /** The room's pipes as mediasoup reports both ends, and the edge participants per edge. */
  async state(): Promise<{ pipes: PipeReport[]; edgeSubscribers: number }> {
    const pipes = (await this.#room.pipes()).map((p) => ({
      edgeNodeId: p.home.edgeNodeId,
      homeSrtp: p.home.srtp,
      homeRtx: p.home.rtx,
      edgeSrtp: p.edge?.srtp,
      edgeRtx: p.edge?.rtx,
      producers: p.home.producers,
    }));
    let edgeSubscribers = 0;
    for (const n of this.#room.edgeSubscribers().values()) edgeSubscribers += n;
    return { pipes, edgeSubscribers };
  }
}

/** The SSRC a subscription is sent with. */
function ssrcOf(subscription: Subscription): number {
  return subscription.rtpParameters.encodings![0]!.ssrc!;
}
