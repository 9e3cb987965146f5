// The media side of one room: a router on one worker and the media of each participant in it.
// When the worker dies the router goes with it; the room's media closes with reason 'worker-died'
// so the signalling side can move the room to media on a live worker.
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { PeerMedia } from './PeerMedia.js';
import { SfuError } from './SfuError.js';
import type { PooledWorker } from './WorkerPool.js';
import { TrackRecorder } from './recorder/TrackRecorder.js';
import type { TapPoint, TrackRecorderOptions } from './recorder/types.js';

/** Why a room's media closed. */
export type RoomMediaCloseReason = 'closed' | 'worker-died';

/** Events of a RoomMedia. */
export type RoomMediaEvents = {
  /** Emitted once when the router is gone. */
  close: [reason: RoomMediaCloseReason];
  /** The dominant speaker changed (peer id), or nobody is speaking (null). */
  activeSpeaker: [peerId: string | null];
};

// How often the dominant-speaker detector re-evaluates; short enough to follow a discussion.
const SPEAKER_INTERVAL_MS = 300;

/** Transport limits applied to every participant of the room. */
export interface RoomMediaOptions {
  maxIncomingBitrate: number;
  initialAvailableOutgoingBitrate: number;
}

/** One room's router and its participants' media. */
export class RoomMedia extends TypedEmitter<RoomMediaEvents> {
  /** The room this media belongs to. */
  readonly roomName: string;
  readonly #router: types.Router;
  readonly #speakers: types.ActiveSpeakerObserver;
  readonly #host: PooledWorker;
  readonly #options: RoomMediaOptions;
  readonly #peers = new Map<string, PeerMedia>();
  #closed = false;

  /** Create the room's router on the given worker. */
  static async create(
    roomName: string,
    host: PooledWorker,
    mediaCodecs: types.RouterRtpCodecCapability[],
    options: RoomMediaOptions,
  ): Promise<RoomMedia> {
    // Count the router before the await: rooms created at the same moment must spread out,
    // not all see the same least-loaded worker.
    host.routers += 1;
    try {
      const router = await host.worker.createRouter({ mediaCodecs, appData: { roomName } });
      const speakers = await router.createActiveSpeakerObserver({ interval: SPEAKER_INTERVAL_MS });
      return new RoomMedia(roomName, router, speakers, host, options);
    } catch (error) {
      host.routers -= 1;
      throw error;
    }
  }

  private constructor(
    roomName: string,
    router: types.Router,
    speakers: types.ActiveSpeakerObserver,
    host: PooledWorker,
    options: RoomMediaOptions,
  ) {
    super();
    this.roomName = roomName;
    this.#router = router;
    this.#speakers = speakers;
    speakers.on('dominantspeaker', ({ producer }) => this.emit('activeSpeaker', String(producer.appData.peerId)));
    this.#host = host;
    this.#options = options;
    router.on('workerclose', () => this.#close('worker-died'));
  }

  /** What the router can send and receive; clients load their Device with it. */
  get rtpCapabilities(): types.RtpCapabilities {
    return this.#router.rtpCapabilities;
  }

  /** Whether the room's media is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Index of the worker hosting this room (for logs and load reports). */
  get workerIndex(): number {
    return this.#host.index;
  }

  /** Create the media holder for a participant joining the room. */
  addPeer(peerId: string): PeerMedia {
    if (this.#closed) throw new SfuError('closed', `room ${this.roomName} media is closed`);
    if (this.#peers.has(peerId)) throw new SfuError('rejected', `peer ${peerId} already has media in this room`);
    const peer = new PeerMedia(peerId, this.#router, {
      webRtcServer: this.#host.webRtcServer,
      ...this.#options,
      onAudioProducer: (producer) => {
        this.#speakers.addProducer({ producerId: producer.id }).catch(() => undefined); // closed meanwhile
      },
    });
    this.#peers.set(peerId, peer);
    peer.once('close', () => this.#peers.delete(peerId));
    return peer;
  }

  /** Where a recorder can tap one of the room's producers (recorder hook). */
  tapPoint(producerId: string): TapPoint {
    if (this.#closed) throw new SfuError('closed', `room ${this.roomName} media is closed`);
    for (const peer of this.#peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return { router: this.#router, producer };
    }
    throw new SfuError('not_found', `no producer ${producerId} in room ${this.roomName}`);
  }

  /** Record one of the room's producers (a recorder is one more subscriber; see sfu/recorder). */
  recordTrack(producerId: string, options?: TrackRecorderOptions): Promise<TrackRecorder> {
    return TrackRecorder.start(this.tapPoint(producerId), options);
  }

  /** Close the router and every participant's media. Idempotent. */
  close(): void {
    this.#close('closed');
  }

  #close(reason: RoomMediaCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of [...this.#peers.values()]) peer.close();
    this.#router.close();
    this.#host.routers -= 1;
    this.emit('close', reason);
  }
}
