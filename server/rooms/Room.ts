// A class in progress: who is in it, who is waiting, and the wiring between them. When one
// participant sends a track, every ready participant gets a consumer for it; moderation acts on
// participants here; everything an auditor may ask about goes to the ClassRecorder.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { TypedEmitter, type RoomMedia, type TrackProducer, type TrackConsumer, type TrackSource, type mediasoupTypes } from '../../sfu/index.js';
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
  /** Where recordings of this room go; without one, recording is refused as unavailable. */
  recording?: RecordingBackend | undefined;
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
  #policy: RoomPolicy;
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

  /** Locked / lobby state. */
  get policy(): RoomPolicy {
    return { ...this.#policy };
  }

  /** The router's capabilities, for clients to load their Device. */
  get rtpCapabilities(): mediasoupTypes.RtpCapabilities {
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
  enter(displayName: string, identity: PeerIdentity, notifier: Notifier): Peer {
    if (this.#closed) throw new SignallingError('unavailable', 'this room is closing; join again');
    if (this.#removed.has(identity.subject) || (identity.tokenId && this.#removed.has(identity.tokenId))) {
      throw new SignallingError('removed', 'you were removed from this class');
    }
    if (this.#peers.size >= this.#options.maxPeers) throw new SignallingError('room_full', `room ${this.name} is full`);
    const id = randomUUID();
    const peer = new Peer(id, displayName, identity, this.#media.addPeer(id), notifier, this.#options.roles);
    if (this.#policy.locked && !peer.can('joinLocked')) {
      peer.media.close();
      throw new SignallingError('locked', 'this class is locked');
    }
    this.#peers.set(id, peer);
    if (this.#peers.size === 1) this.emit('occupied');
    this.#wireConsumerEvents(peer);
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
  markReady(peer: Peer, rtpCapabilities: mediasoupTypes.RtpCapabilities) {
    if (peer.ready) throw new SignallingError('already_joined', 'ready was already sent');
    peer.markReady(rtpCapabilities);
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
   * Give a newly ready participant a consumer for every track already in the room. All are asked of
   * the worker at once, video first: the browser sets up the first consumer alone (it connects the
   * transport on the way) and batches the ones that arrive meanwhile, so whatever comes first is
   * what the newcomer gets first, and a first picture is what joining waits on.
   */
  async consumeExisting(peer: Peer): Promise<void> {
    // Everyone admitted, ready or not: a client that produces before saying ready has had its tracks
    // sent only to those ready at the time, and would otherwise never reach this newcomer.
    const others = this.#admittedPeers().filter((other) => other !== peer && this.#sameGroup(other, peer));
    const producers = others.flatMap((other) => [...other.media.producers.values()]);
    producers.sort((a, b) => Number(a.kind === 'audio') - Number(b.kind === 'audio'));
    await Promise.all(producers.map((producer) => this.#consume(peer, producer)));
  }

  /** Someone started sending: every other ready participant receives it. */
  async distribute(from: Peer, producer: TrackProducer): Promise<void> {
    this.recording.trackAdded(from, producer);
    const receivers = this.#readyPeers(from).filter((peer) => this.#sameGroup(peer, from));
    await Promise.all(receivers.map((peer) => this.#consume(peer, producer)));
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
      moved.push(peer);
    }
    if (moved.length === 0) return;
    for (const receiver of this.#peers.values()) {
      for (const consumer of [...receiver.media.consumers.values()]) {
        const sender = this.#peers.get(consumer.appData.peerId);
        if (!sender || !this.#sameGroup(sender, receiver)) consumer.close();
      }
    }
    const ready = [...this.#peers.values()].filter((p) => p.ready);
    for (const recipient of ready) {
      const wasWith = (other: Peer) => before.get(other) === before.get(recipient);
      const others = ready.filter((other) => other !== recipient);
      const left = others.filter((other) => wasWith(other) && !this.#sameGroup(other, recipient));
      const joined = others.filter((other) => !wasWith(other) && this.#sameGroup(other, recipient));
      if (left.length > 0) recipient.notify('peersLeft', { peerIds: left.map((p) => p.id) });
      if (joined.length > 0) recipient.notify('peersJoined', { peers: joined.map((p) => p.info()) });
    }
    // #consume skips what a receiver already has, so overlapping pairs are consumed once.
    await Promise.all(
      moved.flatMap((peer) => {
        const mine = [...peer.media.producers.values()];
        const mates = ready.filter((other) => other !== peer && this.#sameGroup(other, peer));
        return [this.consumeExisting(peer), ...mates.flatMap((other) => mine.map((producer) => this.#consume(other, producer)))];
      }),
    );
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
  setPolicy(by: Peer, change: Partial<RoomPolicy>): RoomPolicy {
    this.#policy = { ...this.#policy, ...change };
    for (const peer of this.#admittedPeers()) peer.notify('roomPolicy', this.policy);
    this.#record({ action: 'policy.changed', actor: by.identity.subject, actorRole: by.role, details: { ...this.#policy } });
    return this.policy;
  }

  // ---- moderation (permission: moderate) ----

  /** Pause someone's track as a moderator; with `lock`, they may not unmute it themselves. */
  async mute(by: Peer, peerId: string, source: TrackSource, lock: boolean): Promise<void> {
    const peer = this.#target(peerId);
    await peer.media.producerFor(source)?.pause();
    if (lock) peer.lockedSources.add(source);
    peer.notify('moderatorMuted', { source, canUnmute: !lock });
    this.#record({ action: 'moderation.muted', actor: by.identity.subject, actorRole: by.role, subject: peer.identity.subject, details: { source, lock } });
  }

  /** Mute every microphone except the moderator's own; returns how many were muted. */
  async muteAll(by: Peer, allowSelfUnmute: boolean): Promise<number> {
    const targets = this.#admittedPeers().filter((p) => p !== by && !p.can('moderate'));
    for (const peer of targets) {
      await peer.media.producerFor('microphone')?.pause();
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
    if (!peer.can('shareScreen')) {
      peer.media.producerFor('screen')?.close();
    }
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

  #expire(peer: Peer, why: DetachExpiry): void {
    this.#log.info({ peer: peer.id, why }, 'detached peer did not come back');
    this.remove(peer);
  }

  #wireMedia(media: RoomMedia): void {
    media.once('close', (reason) => {
      if (reason === 'worker-died' && this.#newMedia && !this.#closed) void this.#moveMedia();
      else this.close(reason === 'worker-died' ? 'media worker restarted' : 'closed');
    });
    media.on('activeSpeaker', (peerId) => this.#onActiveSpeaker(peerId));
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
      peer.replaceMedia(media.addPeer(peer.id));
      this.#wireConsumerEvents(peer);
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

  async #consume(peer: Peer, producer: TrackProducer): Promise<void> {
    const rtpCapabilities = peer.rtpCapabilities;
    // A producer created while this peer was becoming ready reaches it both ways: consume once.
    if (!rtpCapabilities || peer.media.closed || producer.closed || peer.media.consumes(producer.id)) return;
    let consumer: TrackConsumer;
    try {
      consumer = await peer.media.consume(producer, rtpCapabilities);
    } catch (error) {
      // One participant who cannot decode a track must not stop the others from getting it.
      this.#log.warn({ peer: peer.id, producer: producer.id, err: error }, 'cannot create consumer');
      return;
    }
    // Either side may have moved to another group while the worker was creating it.
    const sender = this.#peers.get(producer.appData.peerId);
    if (!sender || !this.#sameGroup(sender, peer)) {
      consumer.close();
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
    media.on('producerClosed', (p) => this.recording.trackClosed(peer, p));
  }
}

