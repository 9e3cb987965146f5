// The media side of one room: its routers (one to start with, more on other workers once its load
// on the first passes the spread threshold), the media of each participant (browsers, and plain-RTP
// publishers and subscribers placed and admitted the same way), the room's recorder, and the
// fan-out that keeps everyone's subscriptions matching the server's "who may receive whom". When a
// worker dies its routers go with it; the room's media closes with reason 'worker-died' so the
// signalling side can move the room to media on live workers.
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { PeerMedia } from './PeerMedia.js';
import { SfuError } from './SfuError.js';
import { RoomRouter, type PlacedSubscriber } from './RoomRouter.js';
import { FanOut, type Audience } from './FanOut.js';
import type { Placement } from './Placement.js';
import type { PooledWorker } from './WorkerPool.js';
import type { Subscriber } from './Subscriber.js';
import type { Subscription } from './Subscription.js';
import { trackProducer, type Track, type TrackCounts } from './Track.js';
import type { Reception } from './Reception.js';
import { LoudestSpeakers } from './LoudestSpeakers.js';
import { PlainSubscriber, type PlainSubscriberOptions } from './PlainSubscriber.js';
import { PlainPublisher } from './PlainPublisher.js';
import { NO_LOAD, addLoad, describeRefusal, loadShare, type CapacityRefusal, type ForwardLoad } from './Capacity.js';
import type { TrackRates } from './TrackRates.js';
import { TrackRecorder } from './recorder/TrackRecorder.js';
import { RecordingSubscriber } from './recorder/RecordingSubscriber.js';
import type { PlainTap } from './recorder/PlainTap.js';
import { TrackTap } from './TrackTap.js';
import type { TrackRecorderOptions } from './recorder/types.js';
import { EdgePeerMedia } from './EdgePeerMedia.js';
import { RemotePipe, type PipeState } from './RemotePipe.js';
import type { EdgePipeState, EdgePlace } from './EdgeLink.js';

/** Why a room's media closed. */
export type RoomMediaCloseReason = 'closed' | 'worker-died';

/** Events of a RoomMedia. Subscription events name the subscriber (a browser's peer id). */
export type RoomMediaEvents = {
  /** Emitted once when the room's media is gone. */
  close: [reason: RoomMediaCloseReason];
  /** Nobody receives on this edge node any more: the room's pipes to it closed. */
  edgeIdle: [nodeId: string];
  /** The dominant speaker changed (peer id), or nobody is speaking (null). */
  activeSpeaker: [peerId: string | null];
  /** The fan-out gave a subscriber a track (paused until the subscriber resumes it). */
  subscribed: [subscriberId: string, subscription: Subscription];
  /** A subscription ended. */
  unsubscribed: [subscriberId: string, subscription: Subscription];
  /** The publisher muted the track behind a subscription. */
  trackPaused: [subscriberId: string, subscription: Subscription];
  /** ...and unmuted it. */
  trackResumed: [subscriberId: string, subscription: Subscription];
  /** A subscription could not be made (the device cannot decode it, no receive transport yet). */
  subscribeFailed: [subscriberId: string, trackId: string, error: unknown];
};

// How often the dominant-speaker detector re-evaluates; short enough to follow a discussion.
const SPEAKER_INTERVAL_MS = 300;

/** Transport limits applied to every participant of the room. */
export interface RoomMediaOptions {
  maxIncomingBitrate: number;
  initialAvailableOutgoingBitrate: number;
}

/** What a room needs from the Sfu (internal). */
export interface RoomMediaContext {
  mediaCodecs: types.RouterRtpCodecCapability[];
  options: RoomMediaOptions;
  placement: Placement;
  /** A router of this room forwarding (or due to forward) this much, in any unit, takes no new subscribers. */
  spread: ForwardLoad;
  /** Measured rates of the tracks: what each consumer weighs. */
  rates: TrackRates;
  /** Address plain transports listen on (the media workers' listen IP). */
  listenIp: string;
  /** The admission rule (Sfu.refusal): whether the workers take a subscriber due this load. */
  refusal: (join: ForwardLoad, useReserve: boolean) => CapacityRefusal | undefined;
  /** A track was published: measure its rate now, not at the next load sample. */
  published: () => void;
}

/** Id of a room's recorder among its subscribers; participant ids never start with '@'. */
const RECORDER_ID = '@recorder';

/** One room's routers, its participants' media and the fan-out between them. */
export class RoomMedia extends TypedEmitter<RoomMediaEvents> {
  /** The room this media belongs to. */
  readonly roomName: string;
  readonly #context: RoomMediaContext;
  /** The room's routers; the first (home) one carries the active-speaker observer. */
  readonly #routers: RoomRouter[];
  readonly #speakers: types.ActiveSpeakerObserver;
  /** Which microphones are forwarded (the loudest M per group); the limit is set by the server. */
  readonly loudestSpeakers: LoudestSpeakers;
  readonly #peers = new Map<string, PeerMedia>();
  /** Subscribers that are not browsers (RTP receivers over PlainTransports). */
  readonly #plainSubscribers = new Map<string, PlainSubscriber>();
  /** Publishers that are not browsers (RTP sources into PlainTransports). */
  readonly #plainPublishers = new Map<string, PlainPublisher>();
  /** The room's recorder, once something is recorded. */
  #recorder: RecordingSubscriber | undefined;
  readonly #fanOut: FanOut;
  #audience: Audience = () => true;
  /** Pipes to edge nodes, by edge node id and then by home router (a track is piped from where it is published). */
  readonly #remotePipes = new Map<string, Map<types.Router, Promise<RemotePipe>>>();
  /** The track the speaker observer last named dominant. */
  #dominant: string | null = null;
  #closed = false;

  /** Create the room's first router on `host`. */
  static async create(roomName: string, host: PooledWorker, context: RoomMediaContext): Promise<RoomMedia> {
    const home = RoomRouter.start(host, roomName, context.mediaCodecs);
    try {
      const router = await home.ready();
      const speakers = await router.createActiveSpeakerObserver({ interval: SPEAKER_INTERVAL_MS });
      const loudest = await LoudestSpeakers.create(router);
      return new RoomMedia(roomName, home, speakers, loudest, context);
    } catch (error) {
      home.close();
      throw error;
    }
  }

  private constructor(roomName: string, home: RoomRouter, speakers: types.ActiveSpeakerObserver, loudest: LoudestSpeakers, context: RoomMediaContext) {
    super();
    this.roomName = roomName;
    this.#context = context;
    this.#routers = [home];
    this.#speakers = speakers;
    this.loudestSpeakers = loudest;
    speakers.on('dominantspeaker', ({ producer }) => {
      this.#dominant = producer.id;
      this.emit('activeSpeaker', String(producer.appData.peerId));
    });
    this.#watch(home);
    this.#fanOut = new FanOut({
      subscribers: () => [...this.#peers.values(), ...this.#plainSubscribers.values()],
      tracks: () => this.tracks(),
      audience: () => this.#audience,
      bring: (track, subscriber) => this.#bring(track, subscriber),
      subscribed: (subscriber, subscription) => this.emit('subscribed', subscriber.id, subscription),
      failed: (subscriber, track, error) => this.emit('subscribeFailed', subscriber.id, track.id, error),
    });
  }

  /** What the routers can send and receive (all share one codec list); clients load their Device with it. */
  get rtpCapabilities(): types.RtpCapabilities {
    return this.#routers[0]!.router!.rtpCapabilities;
  }

  /** Whether the room's media is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Index of the worker hosting the room's first router (for logs). */
  get workerIndex(): number {
    return this.#routers[0]!.host.index;
  }

  /** Indexes of every worker the room has a router on, first router first. */
  get workerIndexes(): number[] {
    return this.#routers.map((r) => r.host.index);
  }

  /**
   * Set who may receive whom (the server's groups: the main room, breakout rooms). Call `rewire()`
   * after changing what the rule answers so existing subscriptions follow.
   */
  setAudience(audience: Audience): void {
    this.#audience = audience;
  }

  /** Every live track in the room. */
  tracks(): Track[] {
    return [...this.#peers.values(), ...this.#plainPublishers.values()].flatMap((publisher) => [...publisher.tracks.values()]);
  }

  /** A participant's media, if they have media in this room. */
  peer(peerId: string): PeerMedia | undefined {
    return this.#peers.get(peerId);
  }

  /**
   * Create the media holder for a participant joining the room; placed on a router at its first
   * transport. `reception` carries their view and video cap (a room moving workers hands the old one's over).
   */
  addPeer(peerId: string, reception?: Reception, edge?: EdgePlace): PeerMedia {
    if (this.#closed) throw new SfuError('closed', `room ${this.roomName} media is closed`);
    if (this.#taken(peerId)) throw new SfuError('rejected', `peer ${peerId} already has media in this room`);
    const options = {
      ...this.#context.options,
      place: () => this.#place(peer),
      onPublished: (track: Track) => this.#published(peer, track),
      consumerGate: this.loudestSpeakers,
      ...(reception ? { reception } : {}),
    };
    // Beyond the home's share: received on an edge node (published here, like anyone's).
    const peer: PeerMedia = edge
      ? new EdgePeerMedia(peerId, { ...options, link: edge.link, bring: (track) => this.#pipeToEdge(track, edge), due: () => this.joinLoad(peer.reception.maxVideo).consumers })
      : new PeerMedia(peerId, options);
    this.#peers.set(peerId, peer);
    peer.on('unsubscribed', (s) => this.emit('unsubscribed', peerId, s));
    peer.on('trackPaused', (s) => this.emit('trackPaused', peerId, s));
    peer.on('trackResumed', (s) => this.emit('trackResumed', peerId, s));
    peer.once('close', () => {
      this.#peers.delete(peerId);
      this.loudestSpeakers.forgetPeer(peerId);
      this.#dropIdleRouters();
      if (edge) this.#dropIdlePipes(edge.link.nodeId);
    });
    return peer;
  }

  /** Participants of this room receiving on each edge node, by node id. */
  edgeSubscribers(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const peer of this.#peers.values()) if (peer instanceof EdgePeerMedia) counts.set(peer.edgeNodeId, (counts.get(peer.edgeNodeId) ?? 0) + 1);
    return counts;
  }

  /** Every pipe of this room to an edge node, both ends as their mediasoup reports them. */
  async pipes(): Promise<{ home: PipeState; edge: EdgePipeState | undefined }[]> {
    const pipes: RemotePipe[] = [];
    for (const byRouter of this.#remotePipes.values()) {
      for (const pending of byRouter.values()) {
        const pipe = await pending.catch(() => undefined); // one that failed to open carries nothing
        if (pipe && !pipe.closed) pipes.push(pipe);
      }
    }
    return Promise.all(pipes.map((p) => p.state()));
  }

  /** Make `track` consumable on an edge node: one pipe per publishing router and edge, opened on first need. */
  async #pipeToEdge(track: Track, edge: EdgePlace): Promise<void> {
    // From the router the track is published on (a browser's or a plain publisher's).
    const place = (this.#peers.get(track.peerId) ?? this.#plainPublishers.get(track.peerId))?.placement;
    const router = place?.router;
    if (!place || !router) throw new SfuError('closed', `the publisher of track ${track.id} has left`);
    let byRouter = this.#remotePipes.get(edge.link.nodeId);
    if (!byRouter) this.#remotePipes.set(edge.link.nodeId, (byRouter = new Map()));
    let pending = byRouter.get(router);
    if (!pending) {
      const opening = RemotePipe.open(router, edge.link, edge.pipeListen, { host: place.host, place });
      pending = opening;
      byRouter.set(router, opening);
      opening.then(
        (pipe) => {
          if (this.#closed) pipe.close();
          router.observer.once('close', () => pipe.close());
        },
        () => byRouter.delete(router),
      );
    }
    const pipe = await pending;
    await pipe.send(track);
  }

  /** Nobody receives on that edge any more: close the room's pipes to it. */
  #dropIdlePipes(nodeId: string): void {
    if ((this.edgeSubscribers().get(nodeId) ?? 0) > 0) return;
    const byRouter = this.#remotePipes.get(nodeId);
    this.#remotePipes.delete(nodeId);
    for (const pending of byRouter?.values() ?? []) pending.then((pipe) => pipe.close(), () => undefined);
    this.emit('edgeIdle', nodeId);
  }

  /**
   * Add a subscriber that is not a browser: it receives the room's tracks (those the audience rule
   * lets it) over a PlainTransport once opened, placed by load like a browser. Admission is the
   * same as a student's: refused `at_capacity` when what it is due (the packets/s of the tracks it
   * will receive, their bits/s and its consumers) would pass the capacity less the instructors'
   * reserve, so those already in lose nothing.
   */
  addPlainSubscriber(id: string, options: PlainSubscriberOptions = {}): PlainSubscriber {
    if (this.#closed) throw new SfuError('closed', `room ${this.roomName} media is closed`);
    if (this.#taken(id)) throw new SfuError('rejected', `${id} already has media in this room`);
    const subscriber: PlainSubscriber = new PlainSubscriber(id, options, { place: () => this.#place(subscriber), listenIp: this.#context.listenIp });
    const refusal = this.#context.refusal(this.#due(subscriber, this.tracks(), this.#trackCounts()), false);
    if (refusal) throw new SfuError('at_capacity', `the media workers are at capacity: ${describeRefusal(refusal)}`);
    this.#plainSubscribers.set(id, subscriber);
    subscriber.on('unsubscribed', (s) => this.emit('unsubscribed', id, s));
    subscriber.on('trackPaused', (s) => this.emit('trackPaused', id, s));
    subscriber.on('trackResumed', (s) => this.emit('trackResumed', id, s));
    subscriber.once('close', () => {
      this.#plainSubscribers.delete(id);
      this.#dropIdleRouters();
    });
    return subscriber;
  }

  /** Add a publisher that is not a browser: RTP into a PlainTransport; distribute() its tracks once published. */
  addPlainPublisher(id: string): PlainPublisher {
    if (this.#closed) throw new SfuError('closed', `room ${this.roomName} media is closed`);
    if (this.#taken(id)) throw new SfuError('rejected', `${id} already has media in this room`);
    const publisher: PlainPublisher = new PlainPublisher(id, {
      place: () => this.#place(publisher),
      listenIp: this.#context.listenIp,
      onPublished: (track) => this.#published(publisher, track),
    });
    this.#plainPublishers.set(id, publisher);
    publisher.once('close', () => {
      this.#plainPublishers.delete(id);
      this.#dropIdleRouters();
    });
    return publisher;
  }

  /** Give a subscriber every track it may receive (after `ready`, or on a new receive transport). */
  catchUp(subscriberId: string): Promise<void> {
    const subscriber = this.#peers.get(subscriberId) ?? this.#plainSubscribers.get(subscriberId);
    return subscriber ? this.#fanOut.catchUp(subscriber) : Promise.resolve();
  }

  /** A participant published a track: everyone who may receive it gets it. */
  distribute(track: Track): Promise<void> {
    return this.#fanOut.distribute(track);
  }

  /** The audience rule changed: end what it no longer allows, make what it now allows. */
  rewire(): Promise<void> {
    return this.#fanOut.rewire();
  }

  /**
   * The subscriber names the video it shows (last N): subscriptions to tracks out of view pause,
   * those in view resume or are made (ending out-of-view ones when its cap is reached). Returns the
   * tracks that will be sent: the named ones that exist and that the audience rule lets it receive, capped.
   */
  async setView(subscriberId: string, video: readonly string[]): Promise<string[]> {
    const peer = this.#peers.get(subscriberId);
    if (!peer) throw new SfuError('closed', `no media for ${subscriberId} in this room`);
    const visible = new Map(
      this.tracks()
        .filter((t) => t.kind === 'video' && t.peerId !== subscriberId && this.#audience(subscriberId, t.peerId))
        .map((t) => [t.id, t] as const),
    );
    // Ids of tracks that are gone (or never were) take no place under the cap.
    peer.reception.setView(video.filter((id) => visible.has(id)));
    const shown = [...(peer.reception.view ?? [])];
    await peer.applyReception();
    await Promise.all(shown.map((id) => this.#fanOut.deliver(peer, visible.get(id)!)));
    return shown;
  }

  /**
   * What a newcomer to this room is due to receive, weighed: every microphone and the heaviest
   * `maxVideo` videos (its cap), each at the rate of its top layer, to a browser (which estimates
   * its bandwidth). What admission counts for a join.
   */
  joinLoad(maxVideo = Infinity): ForwardLoad {
    const tracks = this.tracks();
    return this.#heaviest(tracks, tracks.filter((t) => t.kind === 'audio').length, maxVideo, Infinity, true);
  }

  /** What participants not yet placed on a router (joined, no transport yet) are due. */
  unplacedDue(): ForwardLoad {
    const tracks = this.tracks();
    const counts = this.#trackCounts();
    // One being placed is on a router's `placed` already (dueOn counts it there) before its
    // `placement` resolves: counted once, not twice (three opening at once were refused as six).
    const onRouter = new Set<PlacedSubscriber>();
    for (const router of this.#routers) for (const s of router.placed) onRouter.add(s);
    let due: ForwardLoad = NO_LOAD;
    for (const peer of this.#peers.values()) if (!peer.placement && !onRouter.has(peer)) due = addLoad(due, this.#due(peer, tracks, counts));
    for (const subscriber of this.#plainSubscribers.values()) if (!subscriber.placement && !onRouter.has(subscriber)) due = addLoad(due, this.#due(subscriber, tracks, counts));
    return due;
  }

  /**
   * What this room's subscribers placed on `worker` are due and do not receive yet (what they
   * receive already is counted on the worker by its consumers: TrackRates.onWorker).
   */
  dueOn(worker: PooledWorker): ForwardLoad {
    const tracks = this.tracks();
    const counts = this.#trackCounts();
    let due: ForwardLoad = NO_LOAD;
    for (const router of this.#routers) {
      if (router.host !== worker) continue;
      for (const subscriber of router.placed) due = addLoad(due, this.#due(subscriber, tracks, counts));
    }
    return due;
  }

  /** What one of this room's routers forwards (its consumers, pipes included) plus what its placed subscribers are due. */
  #routerLoad(router: RoomRouter, tracks: Track[], counts: TrackCounts): ForwardLoad {
    let load = this.#context.rates.onWorker(router.host, router);
    for (const subscriber of router.placed) load = addLoad(load, this.#due(subscriber, tracks, counts));
    return load;
  }

  /**
   * What a subscriber is due and does not receive yet: as many of the tracks it does not subscribe
   * to as its expected subscriptions leave, the heaviest first (videos up to its video count), each
   * at its top layer. Nothing for one that holds all it expects (the common case, checked first).
   */
  #due(subscriber: PlacedSubscriber, tracks: Track[], roomCounts: TrackCounts): ForwardLoad {
    // Of the room's tracks, those it may receive: not its own.
    const counts = { ...roomCounts };
    for (const own of subscriber.tracks?.values() ?? []) counts[own.kind] = Math.max(0, counts[own.kind] - 1);
    const expected = subscriber.expectedSubscriptions(counts);
    if (expected <= subscriber.subscriptions.size) return NO_LOAD;
    let held = 0;
    let heldVideo = 0;
    const candidates: Track[] = [];
    for (const track of tracks) {
      if (subscriber.subscribes(track.id)) {
        held += 1;
        if (track.kind === 'video') heldVideo += 1;
      } else if (track.peerId !== subscriber.id) {
        candidates.push(track);
      }
    }
    const missing = expected - held;
    if (missing <= 0) return NO_LOAD;
    const video = Math.max(0, subscriber.expectedSubscriptions({ audio: 0, video: counts.video }) - heldVideo);
    return this.#heaviest(candidates, missing, video, missing, subscriber.estimatesBandwidth);
  }

  /**
   * The heaviest `video` videos and then audio, `total` at most (`audio` of them at most audio), at
   * their top layers, to a subscriber that `estimates` its bandwidth or not.
   */
  #heaviest(tracks: Track[], audio: number, video: number, total: number, estimates: boolean): ForwardLoad {
    const weighed = (kind: 'audio' | 'video') =>
      tracks
        .filter((t) => t.kind === kind)
        .map((t) => this.#dueWeight(t, estimates))
        .sort((a, b) => b.packetRate - a.packetRate || b.bitrate - a.bitrate);
    const chosen = weighed('video').slice(0, Math.min(video, total));
    chosen.push(...weighed('audio').slice(0, Math.max(0, Math.min(audio, total - chosen.length))));
    return chosen.reduce(addLoad, NO_LOAD);
  }

  /**
   * What one more subscriber of `track` will forward: its top layer; nothing (but a consumer) for a
   * track its publisher muted (lecture mode) or a microphone not among the loudest forwarded, as
   * their consumers weigh once made.
   */
  #dueWeight(track: Track, estimates: boolean): ForwardLoad {
    const gated = track.kind === 'audio' && this.loudestSpeakers.limit > 0 && !this.loudestSpeakers.isForwarded(track.id);
    return track.paused || gated ? { ...NO_LOAD, consumers: 1 } : this.#context.rates.top(track.id, track.kind, estimates);
  }

  /** Close every router and every participant's media. Idempotent. */
  close(): void {
    this.#close('closed');
  }

  /**
   * Where a new subscriber goes: the first of the room's routers below the spread threshold on a
   * worker that is not full; else a new router on the least loaded worker the room is not on yet;
   * else (every worker has one, or the others are full) the room's router on the least loaded worker.
   * The subscriber is counted on its router at once, so a class arriving together spreads too.
   */
  #place(peer: PlacedSubscriber): Promise<RoomRouter> {
    if (this.#closed) return Promise.reject(new SfuError('closed', `room ${this.roomName} media is closed`));
    const { placement, spread, mediaCodecs } = this.#context;
    const tracks = this.tracks();
    const counts = this.#trackCounts();
    const live = this.#routers.filter((r) => !r.closed);
    let chosen = live.find((r) => loadShare(this.#routerLoad(r, tracks, counts), spread) < 1 && placement.score(r.host) < 1);
    if (!chosen) {
      const fresh = placement.leastLoaded(new Set(live.map((r) => r.host)));
      if (fresh && placement.score(fresh) < 1) {
        chosen = RoomRouter.start(fresh, this.roomName, mediaCodecs);
        this.#routers.push(chosen);
        this.#watch(chosen);
      } else {
        chosen = live.reduce((a, b) => (placement.score(b.host) < placement.score(a.host) ? b : a));
      }
    }
    chosen.placed.add(peer);
    const router = chosen;
    return router.ready().then(() => router);
  }

  /** Pipe `track` to the router `subscriber` is placed on, if it is published elsewhere. */
  async #bring(track: Track, subscriber: Subscriber): Promise<void> {
    const to = (subscriber === this.#recorder ? this.#recorder : (this.#peers.get(subscriber.id) ?? this.#plainSubscribers.get(subscriber.id)))?.placement;
    const from = (this.#peers.get(track.peerId) ?? this.#plainPublishers.get(track.peerId))?.placement;
    // Not placed yet (no receive transport): subscribing refuses it with that reason.
    if (!to) return;
    if (!from) throw new SfuError('closed', `the publisher of track ${track.id} has left`);
    await to.pipeFrom(from, track);
  }

  /** Audio is watched for the dominant speaker on the first router; from another, it is piped there. */
  /**
   * Only unmuted microphones take part in speaker detection. mediasoup's observer keeps a paused
   * dominant speaker dominant (challengers are measured against its scores), so a speaker who mutes
   * would stay highlighted until someone out-talks a silence: a muted microphone is taken out of the
   * observer instead (which makes it choose again) and put back when it is unmuted.
   */
  /** A participant's or plain publisher's track is live: weigh it by what it sends, and hear it. */
  #published(peer: { readonly placement: RoomRouter | undefined }, track: Track): void {
    this.#context.published();
    this.#observeSpeaker(peer, track);
  }

  #observeSpeaker(peer: { readonly placement: RoomRouter | undefined }, track: Track): void {
    if (track.kind !== 'audio') return;
    const home = this.#routers[0]!;
    const from = peer.placement;
    const piped = from && from !== home ? home.pipeFrom(from, track) : Promise.resolve();
    const producer = trackProducer(track);
    this.loudestSpeakers.addProducer(producer, piped);
    const add = (): void => {
      piped.then(() => this.#speakers.addProducer({ producerId: track.id })).catch(() => undefined); // closed meanwhile
    };
    const remove = (): void => {
      this.#speakers.removeProducer({ producerId: track.id }).catch(() => undefined);
      if (this.#dominant !== track.id) return;
      this.#dominant = null;
      // Nobody else may be left to name; say at once that the muted one is no longer speaking.
      this.emit('activeSpeaker', null);
    };
    if (!producer.paused) add();
    producer.observer.on('pause', remove);
    producer.observer.on('resume', add);
    producer.observer.once('close', () => {
      if (this.#dominant === track.id) remove();
    });
  }

  /** Live tracks by kind. */
  #trackCounts(): TrackCounts {
    const counts = { audio: 0, video: 0 };
    for (const track of this.tracks()) counts[track.kind]++;
    return counts;
  }

  #watch(router: RoomRouter): void {
    router.ready().then(
      (r) => r.on('workerclose', () => this.#close('worker-died')),
      () => undefined, // the subscriber placed there is refused; the room goes on
    );
  }

  /** A second router nobody is placed on any more is closed, freeing its worker. */
  #dropIdleRouters(): void {
    for (let i = this.#routers.length - 1; i > 0; i--) {
      const router = this.#routers[i]!;
      if (router.placed.size === 0 || router.closed) {
        router.close();
        this.#routers.splice(i, 1);
      }
    }
  }

  /**
   * Subscribe the room's recorder (one more subscriber, placed and counted like the others) to a
   * track: a PlainTap on 127.0.0.1 that a TrackRecorder relays to its muxer. The server names each
   * track (by consent); the audience rule is not asked. Uses the instructors' reserve: recording is
   * an instructor's act in a class already admitted, but a full server still refuses it `at_capacity`.
   */
  async tap(trackId: string): Promise<TrackTap> {
    return TrackTap.of(await this.#tap(trackId));
  }

  async #tap(trackId: string): Promise<PlainTap> {
    if (this.#closed) throw new SfuError('closed', `room ${this.roomName} media is closed`);
    const track = this.tracks().find((t) => t.id === trackId);
    if (!track) throw new SfuError('not_found', `no track ${trackId} in room ${this.roomName}`);
    if (this.#recorder?.subscribes(trackId)) throw new SfuError('rejected', `track ${trackId} is being recorded already`);
    // The recorder is a plain subscriber: no bandwidth estimator.
    const refusal = this.#context.refusal(this.#context.rates.top(track.id, track.kind, false), true);
    if (refusal) throw new SfuError('at_capacity', `the media workers are at capacity: cannot record track ${trackId}: ${describeRefusal(refusal)}`);
    const recorder = (this.#recorder ??= this.#addRecorder());
    recorder.want(trackId);
    await recorder.placed();
    await this.#bring(track, recorder);
    await recorder.subscribe(track);
    return recorder.tapOf(trackId)!;
  }

  /** Record one of the room's tracks through the room's recorder subscriber (see tap()). */
  async recordTrack(trackId: string, options?: TrackRecorderOptions): Promise<TrackRecorder> {
    return TrackRecorder.start(await this.#tap(trackId), options);
  }

  #addRecorder(): RecordingSubscriber {
    const recorder: RecordingSubscriber = new RecordingSubscriber(RECORDER_ID, () => this.#place(recorder));
    recorder.on('unsubscribed', (s) => this.emit('unsubscribed', RECORDER_ID, s));
    recorder.once('close', () => {
      if (this.#recorder === recorder) this.#recorder = undefined;
    });
    return recorder;
  }

  /** Whether `id` names a participant or another subscriber or publisher of this room already. */
  #taken(id: string): boolean {
    return this.#peers.has(id) || this.#plainSubscribers.has(id) || this.#plainPublishers.has(id) || id === RECORDER_ID;
  }

  #close(reason: RoomMediaCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of [...this.#peers.values()]) peer.close();
    for (const subscriber of [...this.#plainSubscribers.values()]) subscriber.close();
    for (const publisher of [...this.#plainPublishers.values()]) publisher.close();
    for (const nodeId of [...this.#remotePipes.keys()]) this.#dropIdlePipes(nodeId);
    for (const router of this.#routers) router.close();
    // After the routers: each tap learns from its router why it closed (room-closed, worker-died).
    this.#recorder?.close();
    this.emit('close', reason);
  }
}
