// The media side of one room: a router on one worker and the media of each participant in it.
// When the worker dies the router goes with it; the room's media closes with reason 'worker-died'
// so the signalling side can move the room to media on a live worker.
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { PeerMedia } from './PeerMedia.js';
import { SfuError } from './SfuError.js';
import type { PooledWorker } from './WorkerPool.js';
import type { TrackProducer } from './PeerMedia.js';
import { LoudestSpeakers } from './LoudestSpeakers.js';
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
  /** Which microphones are forwarded (the loudest M per group); the limit is set by the server. */
  readonly loudestSpeakers: LoudestSpeakers;
  readonly #host: PooledWorker;
  readonly #options: RoomMediaOptions;
  readonly #peers = new Map<string, PeerMedia>();
  /** The producer the observer last named dominant. */
  #dominant: string | null = null;
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
      const loudest = await LoudestSpeakers.create(router);
      return new RoomMedia(roomName, router, speakers, loudest, host, options);
    } catch (error) {
      host.routers -= 1;
      throw error;
    }
  }

  private constructor(
    roomName: string,
    router: types.Router,
    speakers: types.ActiveSpeakerObserver,
    loudest: LoudestSpeakers,
    host: PooledWorker,
    options: RoomMediaOptions,
  ) {
    super();
    this.roomName = roomName;
    this.#router = router;
    this.#speakers = speakers;
    this.loudestSpeakers = loudest;
    speakers.on('dominantspeaker', ({ producer }) => {
      this.#dominant = producer.id;
      this.emit('activeSpeaker', String(producer.appData.peerId));
    });
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
        this.#watchSpeaker(producer);
        this.loudestSpeakers.addProducer(producer);
      },
      consumerGate: this.loudestSpeakers,
    });
    this.#peers.set(peerId, peer);
    peer.once('close', () => {
      this.#peers.delete(peerId);
      this.loudestSpeakers.forgetPeer(peerId);
    });
    return peer;
  }

  /**
   * Only unmuted microphones take part in speaker detection. mediasoup's observer keeps a paused
   * dominant speaker dominant (challengers are measured against its scores), so a speaker who mutes
   * would stay highlighted until someone out-talks a silence: a muted microphone is taken out of the
   * observer instead (which makes it choose again) and put back when it is unmuted.
   */
  #watchSpeaker(producer: TrackProducer): void {
    const add = (): void => {
      this.#speakers.addProducer({ producerId: producer.id }).catch(() => undefined); // closed meanwhile
    };
    const remove = (): void => {
      this.#speakers.removeProducer({ producerId: producer.id }).catch(() => undefined);
      if (this.#dominant !== producer.id) return;
      this.#dominant = null;
      // Nobody else may be left to name; say at once that the muted one is no longer speaking.
      this.emit('activeSpeaker', null);
    };
    if (!producer.paused) add();
    producer.observer.on('pause', remove);
    producer.observer.on('resume', add);
    producer.observer.once('close', () => {
      if (this.#dominant === producer.id) remove();
    });
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
