// A class in progress: who is in it, who is waiting, and which group each is in. The media plane
// (sfu/RoomMedia) decides who receives which track; this room tells it who may receive whom (the
// same group) and when (ready, new tracks, group moves), and turns its subscription events into
// notifications. Moderation acts on participants here; what an auditor may ask about goes to the ClassRecorder.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { EdgePeerMedia, Reception, TypedEmitter, type EdgePlace, type RoomMedia, type Track, type TrackSource, type ClientParameters } from '../../sfu/index.js';
import type { RolesConfig } from '../../config/index.js';
import type { ChatMessage, RoomPolicy } from '../../protocol/index.js';
import { Peer, type Notifier, type PeerIdentity } from './Peer.js';
import { SignallingError } from '../signalling/SignallingError.js';
import type { ClassRecorder, ClassEvent } from './ClassRecord.js';
import { HandQueue } from './HandQueue.js';
import { ChatLog } from './ChatLog.js';
import { Polls } from './Polls.js';
import { Breakouts } from './Breakouts.js';
import { DetachedPeers, type DetachExpiry } from './DetachedPeers.js';
import { LectureMode, speaksFreely } from './LectureMode.js';
import { AT_CAPACITY_MESSAGE, type Admission } from './Admission.js';
import { RecordingConsent, type RecordingBackend } from './RecordingConsent.js';

// Presence is batched: 500 students joining a lecture within a minute would otherwise cost one
// message per pair of people (~125k); batching sends each person one message per window.
const PRESENCE_BATCH_MS = 100;
// After its worker died, a room asks for media on a live worker this many times, waiting this long
// before each (a one-worker server needs its worker respawned first), then gives up and closes.
const MEDIA_MOVE_DELAYS_MS = [0, 100, 250, 500, 1000, 2000, 4000];

/** Events of a Room. */
export type RoomEvents = {
  /** The last participant left. */
  empty: [];
  /** The first participant entered an empty room. */
  occupied: [];
  /** The room closed (idempotent; emitted once). */
  close: [reason: string];
  /** A participant left or was removed (for sessions to forget the room). */
  peerLeft: [peer: Peer];
};

/** Settings every room gets from config. */
export interface RoomOptions {
  maxPeers: number;
  lobby: boolean;
  chatHistory: number;
  roles: RolesConfig;
  /** How long before breakout rooms end everyone is warned. */
  breakoutWarningSeconds: number;
  /** How long a participant whose connection dropped is kept for a resume. */
  resumeGraceSeconds: number;
  /** Most video consumers one participant holds (last N). */
  maxVideoConsumers: number;
  /** Whether the room starts in lecture mode. */
  lectureMode: boolean;
  /** How many of the loudest open microphones per group are forwarded (0: all). */
  forwardedSpeakers: number;
  /** Whether the media workers can take one more participant (none: always). */
  admission?: Admission;
  /** Where recordings of this room go; without one, recording is refused as unavailable. */
  recording?: RecordingBackend | undefined;
  /** Nobody of this room receives on that edge node any more (the directory drops it as a forwarder). */
  edgeIdle?: (room: string, nodeId: string) => void;
}

/** Media for this room on a live worker (the Sfu's createRoomMedia). */
export type RoomMediaSource = () => Promise<RoomMedia>;

/** One room: participants plus its media. */
export class Room extends TypedEmitter<RoomEvents> {
  /** The name in /r/<name>. */
  readonly name: string;
  #media: RoomMedia;
  readonly #newMedia: RoomMediaSource | undefined;
  readonly #options: RoomOptions;
  readonly #log: FastifyBaseLogger;
  readonly #recorder: ClassRecorder;
  readonly #peers = new Map<string, Peer>();
  readonly #hands = new HandQueue();
  /** Chat per group: the main room's, and one per breakout room while it runs. */
  readonly #chats = new Map<string, ChatLog>();
  /** This class's polls. */
  readonly polls: Polls;
  /** This class's breakout rooms (groups of this room on the same media plane). */
  readonly breakouts: Breakouts;
  /** Whether this class is being recorded, and who consented. */
  readonly recording: RecordingConsent;
  readonly #detached: DetachedPeers;
  /** Identity subjects and token ids removed from this class: they may not come back. */
  readonly #removed = new Set<string>();
  #policy: Omit<RoomPolicy, 'lectureMode'>;
  readonly #lecture: LectureMode;
  #joinedSinceFlush: Peer[] = [];
  #leftSinceFlush: string[] = [];
  #presenceTimer: NodeJS.Timeout | undefined;
  #activeSpeaker: string | null = null;
  #closed = false;

  /** Without `newMedia`, the room closes when its media worker dies instead of moving. */
  constructor(name: string, media: RoomMedia, options: RoomOptions, log: FastifyBaseLogger, recorder: ClassRecorder, newMedia?: RoomMediaSource) {
    super();
    this.name = name;
    this.#media = media;
    this.#newMedia = newMedia;
    this.#options = options;
    this.#log = log.child({ room: name });
    this.#recorder = recorder;
    const host = {
      admitted: () => this.#admittedPeers(),
      record: (event: Omit<ClassEvent, 'room'>) => this.#record(event),
      moveToGroups: (moves: ReadonlyMap<Peer, string>) => this.moveToGroups(moves),
      failed: (error: unknown, what: string) => this.#log.error({ err: error }, `${what} failed`),
    };
    this.polls = new Polls(host);
    this.breakouts = new Breakouts(host, options.breakoutWarningSeconds);
    this.recording = new RecordingConsent({ ...host, name, media: () => this.#media }, options.recording);
    this.#policy = { locked: false, lobby: options.lobby };
    this.#lecture = new LectureMode(options.lectureMode);
    this.#detached = new DetachedPeers(options.resumeGraceSeconds * 1000, (peer, why) => this.#expire(peer, why));
    this.#wireMedia(media);
    this.#record({ action: 'room.opened', actor: 'server' });
  }

  /** Number of participants, waiting or admitted. */
  get size(): number {
    return this.#peers.size;
  }

  /** Whether the room is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Locked / lobby / lecture mode state. */
  get policy(): RoomPolicy {
    return { ...this.#policy, lectureMode: this.#lecture.enabled };
  }

  /** The router's capabilities, for clients to load their Device. */
  get rtpCapabilities(): RoomMedia['rtpCapabilities'] {
    return this.#media.rtpCapabilities;
  }

  /** A participant by id. */
  peer(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  /**
   * Add a participant. Those allowed to skip the lobby (or everyone, when the lobby is off) are
   * admitted at once; the rest wait until someone with `admit` lets them in.
   */
  enter(displayName: string, identity: PeerIdentity, notifier: Notifier, edge?: EdgePlace): Peer {
    if (this.#closed) throw new SignallingError('unavailable', 'this room is closing; join again');
    if (this.#removed.has(identity.subject) || (identity.tokenId && this.#removed.has(identity.tokenId))) {
      throw new SignallingError('removed', 'you were removed from this class');
    }
    if (this.#peers.size >= this.#options.maxPeers) throw new SignallingError('room_full', `room ${this.name} is full`);
    // Placed on an edge node, this participant's receiving does not weigh on this node's workers.
    if (!edge) this.#admit(identity);
    const id = randomUUID();
    const peer = new Peer(id, displayName, identity, this.#media.addPeer(id, new Reception(this.#options.maxVideoConsumers), edge), notifier, this.#options.roles);
    if (this.#policy.locked && !peer.can('joinLocked')) {
      peer.media.close();
      throw new SignallingError('locked', 'this class is locked');
    }
    this.#peers.set(id, peer);
    if (this.#peers.size === 1) this.emit('occupied');
    this.#watchTracks(peer);
    this.#lecture.enter(peer);
    this.#syncSpeaker(peer);
    if (!this.#policy.lobby || peer.can('skipLobby')) peer.admit();
    else this.#lobbyChanged();
    this.#record({ action: 'peer.joined', actor: identity.subject, actorRole: identity.role, details: { admitted: peer.admitted } });
    this.#log.info({ peer: id, role: identity.role, admitted: peer.admitted, peers: this.#peers.size }, 'peer entered');
    return peer;
  }

  /**
   * The participant can now receive media: tell the others, and return the room's current state.
   * Consumers for existing tracks are created by `consumeExisting` after the reply is sent.
   */
  markReady(peer: Peer, rtpCapabilities: ClientParameters) {
    if (peer.ready) throw new SignallingError('already_joined', 'ready was already sent');
    peer.markReady(rtpCapabilities);
    peer.media.receiveWith(rtpCapabilities);
    const others = this.#readyPeers(peer).filter((other) => this.#sameGroup(other, peer));
    this.#joinedSinceFlush.push(peer);
    this.#schedulePresence();
    return {
      peers: others.map((other) => other.info()),
      chat: this.#chatFor(peer.group).history(),
      hands: this.#hands.list(),
      activeSpeaker: others.some((other) => other.id === this.#activeSpeaker) ? this.#activeSpeaker : null,
    };
  }

  /**
   * Give a newly ready participant (or one with a new receive transport) every track already in
   * its group. Tracks of those still becoming ready count too: a client that produces before saying
   * ready has had its tracks sent only to those ready at the time.
   */
  async consumeExisting(peer: Peer): Promise<void> {
    if (this.#peers.get(peer.id) === peer) await this.#media.catchUp(peer.id);
  }

  /** Someone started sending: every other ready participant of their group receives it. */
  async distribute(from: Peer, track: Track): Promise<void> {
    this.recording.trackAdded(from, track);
    await this.#media.distribute(track);
    this.#announceTracks(from);
  }

  /**
   * Last N: a receiver with no subscription to a track (off screen, or past the video cap) still has
   * to learn that it exists, or its client can never name it in a view (a screen shared after the
   * view was set would never be shown). Those receivers get the sender's tracks as a peerUpdated.
   */
  #announceTracks(from: Peer): void {
    const tracks = [...from.media.tracks.keys()];
    const receivers = this.#readyPeers(from).filter((peer) => this.#sameGroup(peer, from));
    const unaware = receivers.filter((peer) => !tracks.every((id) => peer.media.subscribes(id)));
    if (unaware.length === 0) return;
    const info = from.info();
    for (const peer of unaware) peer.notify('peerUpdated', { peer: info });
  }

  /**
   * The client names the video it shows (last N): the media plane pauses what is off screen and
   * sends what is on it, within the participant's cap. Returns the tracks that will be sent.
   */
  async setView(peer: Peer, video: readonly string[]): Promise<string[]> {
    return this.#media.setView(peer.id, video);
  }

  /** Bring a newcomer up to date on what is running: an open poll, breakout rooms. */
  greet(peer: Peer): void {
    this.polls.greet(peer);
    this.breakouts.greet(peer);
    this.recording.greet(peer);
  }

  /**
   * Move participants between groups (the main room, breakout rooms) on the same media plane: all
   * groups are set first, then consumers across the new boundaries close, the missing ones within
   * them are created, all on the transports everyone already has (no new connection, no ICE
   * restart), and each participant is told who left and joined their view. Moving a whole group at
   * once keeps groupmates' consumers of each other instead of tearing them down and rebuilding.
   */
  async moveToGroups(moves: ReadonlyMap<Peer, string>): Promise<void> {
    const before = new Map([...this.#peers.values()].map((p) => [p, p.group]));
    const moved: Peer[] = [];
    for (const [peer, group] of moves) {
      if (this.#peers.get(peer.id) !== peer || peer.group === group) continue;
      peer.group = group;
      this.#syncSpeaker(peer);
      moved.push(peer);
    }
    if (moved.length === 0) return;
    // Subscriptions across the new boundaries end at once (before anyone is told who left); the
    // missing ones within them are made after the notifications below.
    const rewired = this.#media.rewire();
    const ready = [...this.#peers.values()].filter((p) => p.ready);
    for (const recipient of ready) {
      const wasWith = (other: Peer) => before.get(other) === before.get(recipient);
      const others = ready.filter((other) => other !== recipient);
      const left = others.filter((other) => wasWith(other) && !this.#sameGroup(other, recipient));
      const joined = others.filter((other) => !wasWith(other) && this.#sameGroup(other, recipient));
      if (left.length > 0) recipient.notify('peersLeft', { peerIds: left.map((p) => p.id) });
      if (joined.length > 0) recipient.notify('peersJoined', { peers: joined.map((p) => p.info()) });
    }
    await rewired;
  }

  /**
   * The connection of `peer` dropped: keep them (place, hand, media) for the grace window instead
   * of removing them; the others see nothing. Ignored unless `from` is still the peer's connection.
   */
  detach(peer: Peer, from: Notifier): void {
    if (this.#peers.get(peer.id) !== peer || peer.notifier !== from || this.#detached.has(peer)) return;
    this.#detached.hold(peer);
    this.#record({ action: 'peer.detached', actor: peer.identity.subject, actorRole: peer.role });
    this.#log.info({ peer: peer.id, graceSeconds: this.#options.resumeGraceSeconds }, 'peer detached');
  }

  /**
   * A new connection resumed `peer`: it gets what was held meanwhile, then everything else.
   * Returns the notifier the peer had until now (a connection still open, when taking one over).
   */
  reattach(peer: Peer, to: Notifier): Notifier {
    if (this.#peers.get(peer.id) !== peer) throw new SignallingError('resume_failed', 'that participant has left; join again');
    const previous = this.#detached.release(peer, to);
    this.#record({ action: 'peer.resumed', actor: peer.identity.subject, actorRole: peer.role });
    this.#log.info({ peer: peer.id }, 'peer resumed');
    return previous;
  }

  /** Whether `peer` is waiting to be resumed. */
  isDetached(peer: Peer): boolean {
    return this.#detached.has(peer);
  }

  /** Remove a participant who left, close their media and tell the others. */
  remove(peer: Peer): void {
    if (this.#peers.get(peer.id) !== peer) return;
    this.#peers.delete(peer.id);
    this.#detached.forget(peer);
    this.recording.left(peer);
    peer.media.close();
    if (this.#hands.set(peer.id, false)) this.#broadcastHands();
    if (peer.ready) {
      this.#leftSinceFlush.push(peer.id);
      this.#schedulePresence();
    }
    if (!peer.admitted) this.#lobbyChanged();
    this.#record({ action: 'peer.left', actor: peer.identity.subject, actorRole: peer.role });
    this.#log.info({ peer: peer.id, peers: this.#peers.size }, 'peer left');
    this.emit('peerLeft', peer);
    if (this.#peers.size === 0 && !this.#closed) this.emit('empty');
  }

  // ---- lobby and policy (permission: admit) ----

  /** Participants waiting in the lobby, in arrival order. */
  waiting(): Peer[] {
    return [...this.#peers.values()].filter((p) => !p.admitted);
  }

  /** Let waiting participants in; returns how many. */
  admit(by: Peer, peerIds: string[] | 'all'): number {
    const targets = peerIds === 'all' ? this.waiting() : peerIds.map((id) => this.#target(id)).filter((p) => !p.admitted);
    for (const peer of targets) {
      peer.admit();
      peer.notify('admitted', {});
      this.#record({ action: 'lobby.admitted', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject });
    }
    if (targets.length > 0) this.#lobbyChanged();
    return targets.length;
  }

  /** Turn a waiting participant away. */
  deny(by: Peer, peerId: string): void {
    const peer = this.#target(peerId);
    if (peer.admitted) throw new SignallingError('invalid_data', 'that participant is not waiting');
    peer.notify('denied', { reason: 'an instructor declined your request to join' });
    this.#record({ action: 'lobby.denied', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject });
    this.remove(peer);
  }

  /** Lock the room or turn the lobby on or off; everyone admitted is told. */
  setPolicy(by: Peer, change: Partial<Omit<RoomPolicy, 'lectureMode'>>): RoomPolicy {
    this.#policy = { ...this.#policy, ...change };
    for (const peer of this.#admittedPeers()) peer.notify('roomPolicy', this.policy);
    this.#record({ action: 'policy.changed', actor: by.identity.subject, actorRole: by.role, details: { ...this.#policy } });
    return this.policy;
  }

  /** Turn lecture mode on or off (students muted and held, or free to unmute again); everyone is told. */
  async setLectureMode(by: Peer, enabled: boolean): Promise<RoomPolicy> {
    // Those in the lobby too, so they come in held.
    const affected = await this.#lecture.set(enabled, [...this.#peers.values()]);
    for (const peer of this.#admittedPeers()) peer.notify('roomPolicy', this.policy);
    this.#record({ action: 'moderation.lectureMode', actor: by.identity.subject, actorRole: by.role, details: { enabled, affected } });
    return this.policy;
  }

  // ---- moderation (permission: moderate) ----

  /** Pause someone's track as a moderator; with `lock`, they may not unmute it themselves. */
  async mute(by: Peer, peerId: string, source: TrackSource, lock: boolean): Promise<void> {
    const peer = this.#target(peerId);
    await this.#pauseSource(peer, source);
    if (lock) peer.lockedSources.add(source);
    peer.notify('moderatorMuted', { source, canUnmute: !lock });
    this.#record({ action: 'moderation.muted', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject, details: { source, lock } });
  }

  /** Mute every microphone except the moderator's own; returns how many were muted. */
  async muteAll(by: Peer, allowSelfUnmute: boolean): Promise<number> {
    const targets = this.#admittedPeers().filter((p) => p !== by && !p.can('moderate'));
    for (const peer of targets) {
      await this.#pauseSource(peer, 'microphone');
      if (!allowSelfUnmute) peer.lockedSources.add('microphone');
      peer.notify('moderatorMuted', { source: 'microphone', canUnmute: allowSelfUnmute });
    }
    this.#record({ action: 'moderation.mutedAll', actor: by.identity.subject, actorRole: by.role, details: { count: targets.length, allowSelfUnmute } });
    return targets.length;
  }

  /** Let someone unmute what a moderator locked. */
  allowUnmute(by: Peer, peerId: string): void {
    const peer = this.#target(peerId);
    peer.lockedSources.clear();
    peer.notify('unmuteAllowed', {});
    this.#record({ action: 'moderation.unmuteAllowed', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject });
  }

  /** Remove someone; their identity and room link are refused for the rest of this class. */
  expel(by: Peer, peerId: string): void {
    const peer = this.#target(peerId);
    if (peer === by) throw new SignallingError('invalid_data', 'you cannot remove yourself; leave instead');
    if (peer.identity.personal) {
      this.#removed.add(peer.identity.subject);
      if (peer.identity.tokenId) this.#removed.add(peer.identity.tokenId);
    }
    peer.notify('removed', { reason: 'an instructor removed you from this class' });
    this.#record({ action: 'moderation.removed', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject });
    this.remove(peer);
  }

  /** Make someone presenter (screen share) or take it back; a revoked presenter's screen stops. */
  setPresenter(by: Peer, peerId: string, presenter: boolean): void {
    const peer = this.#target(peerId);
    peer.presenter = presenter;
    const screen = peer.media.trackFor('screen');
    if (!peer.can('shareScreen') && screen) peer.media.unpublish(screen.id);
    void this.#lecture.rightsChanged(peer).catch((error: unknown) => this.#log.warn({ err: error, peer: peer.id }, 'lecture mode hold failed'));
    this.#syncSpeaker(peer);
    for (const other of this.#admittedPeers()) other.notify('peerUpdated', { peer: peer.info() });
    this.#record({ action: 'moderation.presenter', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject, details: { presenter } });
  }

  /** End the class for everyone. */
  end(by: Peer): void {
    this.#record({ action: 'class.ended', actor: by.identity.subject, actorRole: by.role });
    this.close('the instructor ended the class');
  }

  // ---- participation ----

  /** Post a chat message to everyone admitted. */
  chat(from: Peer, text: string): ChatMessage {
    // In a breakout room, chat stays in that room.
    const message = this.#chatFor(from.group).add({ id: from.id, displayName: from.displayName }, text);
    for (const peer of this.#admittedPeers()) if (this.#sameGroup(peer, from)) peer.notify('chatMessage', { message });
    return message;
  }

  /** Raise or lower a hand (one's own, or a moderator lowering someone's). */
  setHand(peerId: string, raised: boolean, by?: Peer): void {
    const peer = this.#target(peerId);
    if (!this.#hands.set(peer.id, raised)) return;
    if (by && by !== peer) {
      this.#record({ action: 'moderation.handLowered', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject });
    }
    this.#broadcastHands();
  }

  /** Close the room: tell everyone, drop them, release the router. Idempotent. */
  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#presenceTimer);
    this.polls.stop();
    this.breakouts.stop();
    this.recording.close();
    this.#detached.clear();
    for (const peer of [...this.#peers.values()]) {
      peer.notify('roomClosed', { reason });
      this.#peers.delete(peer.id);
      peer.media.close();
      this.emit('peerLeft', peer);
    }
    this.#media.close();
    this.#record({ action: 'room.closed', actor: 'server', details: { reason } });
    this.#log.info({ reason }, 'room closed');
    this.emit('close', reason);
  }

  /** Whether this node's media workers are too full for one more participant of `role` (then an edge node may take them). */
  isFullFor(role: PeerIdentity['role']): boolean {
    return this.#options.admission?.refusal(role, this.#media.joinLoad(this.#options.maxVideoConsumers)) !== undefined;
  }

  /** This room's pipes to edge nodes, both ends as mediasoup reports them (for the audit). */
  pipes(): ReturnType<RoomMedia['pipes']> {
    return this.#media.pipes();
  }

  /**
   * An edge node carrying some of this room's subscribers is gone: each of them gets new media (on
   * another edge from `place`, or here) and is told to start it over (`mediaReset`), as when a
   * worker dies. Their place in the class is kept.
   */
  async edgeLost(nodeId: string, place: () => Promise<EdgePlace | undefined>): Promise<void> {
    const moved = [...this.#peers.values()].filter((p) => p.media instanceof EdgePeerMedia && p.media.edgeNodeId === nodeId);
    for (const peer of moved) {
      const edge = this.isFullFor(peer.role) ? await place().catch(() => undefined) : undefined;
      if (this.#closed || this.#peers.get(peer.id) !== peer) continue;
      const old = peer.media;
      old.close();
      peer.replaceMedia(this.#media.addPeer(peer.id, old.reception.carryOver(), edge));
      if (peer.rtpCapabilities) peer.media.receiveWith(peer.rtpCapabilities);
      this.#watchTracks(peer);
      if (peer.admitted) peer.notify('mediaReset', { reason: 'the media server carrying your video stopped; reconnecting' });
    }
    if (moved.length > 0) this.#log.warn({ edge: nodeId, peers: moved.length }, 'edge node lost: its subscribers moved');
  }

  /** Refuse a join the media workers cannot carry without degrading those already in; audited. */
  #admit(identity: PeerIdentity): void {
    const refusal = this.#options.admission?.refusal(identity.role, this.#media.joinLoad(this.#options.maxVideoConsumers));
    if (!refusal) return;
    this.#record({ action: 'room.admission_refused', actor: identity.subject, actorRole: identity.role, details: { ...refusal } });
    this.#log.warn({ role: identity.role, ...refusal }, 'join refused: media at capacity');
    throw new SignallingError('at_capacity', AT_CAPACITY_MESSAGE);
  }

  #expire(peer: Peer, why: DetachExpiry): void {
    this.#log.info({ peer: peer.id, why }, 'detached peer did not come back');
    this.remove(peer);
  }

  #wireMedia(media: RoomMedia): void {
    media.setAudience((receiverId, publisherId) => {
      const receiver = this.#peers.get(receiverId);
      const publisher = this.#peers.get(publisherId);
      return receiver !== undefined && publisher !== undefined && this.#sameGroup(receiver, publisher);
    });
    media.on('subscribed', (peerId, s) =>
      this.#peers.get(peerId)?.notify('consumerAdded', {
        consumerId: s.id,
        producerId: s.trackId,
        peerId: s.peerId,
        kind: s.kind,
        source: s.source,
        rtpParameters: { ...s.rtpParameters },
        producerPaused: s.producerPaused,
      }),
    );
    media.on('unsubscribed', (peerId, s) => this.#notifyMedia(peerId, 'consumerClosed', s.id));
    media.on('trackPaused', (peerId, s) => this.#notifyMedia(peerId, 'consumerPaused', s.id));
    media.on('trackResumed', (peerId, s) => this.#notifyMedia(peerId, 'consumerResumed', s.id));
    // One participant who cannot decode a track must not stop the others from getting it.
    media.on('subscribeFailed', (peerId, trackId, error) => this.#log.warn({ peer: peerId, producer: trackId, err: error }, 'cannot create consumer'));
    media.once('close', (reason) => {
      if (reason === 'worker-died' && this.#newMedia && !this.#closed) void this.#moveMedia();
      else this.close(reason === 'worker-died' ? 'media worker restarted' : 'closed');
    });
    media.on('activeSpeaker', (peerId) => this.#onActiveSpeaker(peerId));
    media.on('edgeIdle', (nodeId) => this.#options.edgeIdle?.(this.name, nodeId));
    media.loudestSpeakers.setLimit(this.#options.forwardedSpeakers);
    for (const peer of this.#peers.values()) this.#syncSpeaker(peer);
  }

  /** Tell the media which group a participant is heard in and whether they are always forwarded. */
  #syncSpeaker(peer: Peer): void {
    this.#media.loudestSpeakers.setGroup(peer.id, peer.group);
    this.#media.loudestSpeakers.pin(peer.id, speaksFreely(peer));
  }

  /**
   * The media worker died with the router: move the room to a live worker. Everyone stays in the
   * class; each participant gets new, empty media and is told to send and receive again
   * (`mediaReset`), which brings every track back through the usual produce/consume path.
   */
  async #moveMedia(): Promise<void> {
    let media: RoomMedia | undefined;
    let lastError: unknown;
    for (const delay of MEDIA_MOVE_DELAYS_MS) {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.#closed) return;
      try {
        media = await this.#newMedia!();
        break;
      } catch (error) {
        lastError = error;
      }
    }
    if (!media) {
      this.#log.error({ err: lastError }, 'no live media worker for the room');
      this.close('media worker restarted');
      return;
    }
    if (this.#closed) {
      media.close();
      return;
    }
    this.#media = media;
    this.#wireMedia(media);
    this.#activeSpeaker = null;
    for (const peer of this.#peers.values()) {
      peer.replaceMedia(media.addPeer(peer.id, peer.media.reception.carryOver()));
      if (peer.rtpCapabilities) peer.media.receiveWith(peer.rtpCapabilities);
    }
    for (const peer of this.#peers.values()) if (peer.admitted) peer.notify('mediaReset', { reason: 'media worker restarted' });
    this.#record({ action: 'room.mediaMoved', actor: 'server', details: { worker: media.workerIndex } });
    this.#log.warn({ worker: media.workerIndex, peers: this.#peers.size }, 'room moved to a live media worker');
  }

  #target(peerId: string): Peer {
    const peer = this.#peers.get(peerId);
    if (!peer) throw new SignallingError('not_found', `no participant ${peerId} in this room`);
    return peer;
  }

  /** Whether two participants see and hear each other (the same group: main or one breakout room). */
  #sameGroup(a: Peer, b: Peer): boolean {
    return a.group === b.group;
  }

  /** The chat of a group; those of breakout rooms that ended are dropped. */
  #chatFor(group: string): ChatLog {
    for (const id of this.#chats.keys()) if (!this.breakouts.has(id)) this.#chats.delete(id);
    let log = this.#chats.get(group);
    if (!log) {
      log = new ChatLog(this.#options.chatHistory);
      this.#chats.set(group, log);
    }
    return log;
  }

  #admittedPeers(): Peer[] {
    return [...this.#peers.values()].filter((p) => p.admitted);
  }

  #readyPeers(except: Peer): Peer[] {
    return [...this.#peers.values()].filter((p) => p.ready && p !== except);
  }

  #schedulePresence(): void {
    if (this.#presenceTimer || this.#closed) return;
    this.#presenceTimer = setTimeout(() => this.#flushPresence(), PRESENCE_BATCH_MS);
  }

  /** Tell every ready participant who came and went since the last flush, in one message each. */
  #flushPresence(): void {
    this.#presenceTimer = undefined;
    const joined = this.#joinedSinceFlush.filter((p) => this.#peers.get(p.id) === p).map((p) => p.info());
    const left = this.#leftSinceFlush;
    this.#joinedSinceFlush = [];
    this.#leftSinceFlush = [];
    for (const recipient of this.#peers.values()) {
      if (!recipient.ready) continue;
      const peers = joined.filter((info) => info.id !== recipient.id && this.#peers.get(info.id)?.group === recipient.group);
      if (peers.length > 0) recipient.notify('peersJoined', { peers });
      if (left.length > 0) recipient.notify('peersLeft', { peerIds: left });
    }
  }

  #lobbyChanged(): void {
    const waiting = this.waiting().map((p) => ({ id: p.id, displayName: p.displayName, role: p.role }));
    for (const peer of this.#admittedPeers()) if (peer.can('admit')) peer.notify('lobbyChanged', { waiting });
  }

  #broadcastHands(): void {
    const peerIds = this.#hands.list();
    for (const peer of this.#admittedPeers()) peer.notify('handQueue', { peerIds });
  }

  #onActiveSpeaker(peerId: string | null): void {
    if (peerId === this.#activeSpeaker) return;
    this.#activeSpeaker = peerId;
    // One audio observer serves the whole room: a speaker in a breakout room is news only there.
    const speaker = peerId === null ? undefined : this.#peers.get(peerId);
    this.recording.speaker(speaker);
    for (const peer of this.#admittedPeers()) {
      if (peer.ready && (!speaker || this.#sameGroup(peer, speaker))) peer.notify('activeSpeaker', { peerId });
    }
  }

  #record(event: Omit<ClassEvent, 'room'>): void {
    try {
      this.#recorder.record({ ...event, room: this.name });
    } catch (error) {
      // A failing audit sink must be loud, but must not take the class down with it.
      this.#log.error({ err: error, action: event.action }, 'could not record class event');
    }
  }

  /** Pause a participant's track of a source, if they send one (moderation). */
  async #pauseSource(peer: Peer, source: TrackSource): Promise<void> {
    const track = peer.media.trackFor(source);
    if (track) await peer.media.pauseTrack(track.id);
  }

  /**
   * A track gone that some never received: they would keep a tile for it (see #announceTracks).
   * (Their subscriptions to it may be closed already: everyone is told. Not when the sender is
   * leaving: peersLeft says that, and this would bring them back.)
   */
  #watchTracks(peer: Peer): void {
    const media = peer.media;
    media.on('unpublished', (track) => {
      this.recording.trackClosed(peer, track);
      if (this.#peers.get(peer.id) !== peer || media.closed) return;
      const info = peer.info();
      for (const other of this.#readyPeers(peer)) if (this.#sameGroup(other, peer)) other.notify('peerUpdated', { peer: info });
    });
  }

  #notifyMedia(peerId: string, method: 'consumerClosed' | 'consumerPaused' | 'consumerResumed', consumerId: string): void {
    this.#peers.get(peerId)?.notify(method, { consumerId });
  }
}

