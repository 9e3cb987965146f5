// A participant in a room, from the signalling side: who they are, what they may do, their media,
// and the way to reach their browser. Typed fields only: no untyped `peer.data` bag.
import type { ClientParameters, PeerMedia, TrackSource } from '../../sfu/index.js';
import type { Permission, Role, RolesConfig } from '../../config/index.js';
import type { NotificationName, NotificationData, PeerInfo } from '../../protocol/index.js';
import { ResumeSecret } from './ResumeSecret.js';

/** Something that can push notifications to one browser (a signalling session). */
export interface Notifier {
  /** Send a notification frame; silently dropped if the connection is gone. */
  notify<N extends NotificationName>(method: N, data: NotificationData<N>): void;
}

/** Who a participant is, as established at join (sign-in, room token or guest access). */
export interface PeerIdentity {
  /** Stable id from the identity provider or token; pseudonymous for guests. */
  subject: string;
  role: Role;
  /** Token id (jti) when admitted by a room link, so a removed participant's link can be refused. */
  tokenId?: string | undefined;
  /**
   * Whether subject and token name one person (a sign-in, or a link issued to someone). A link
   * shared by a whole class or a guest does not: removing such a participant cannot be made to stick
   * without refusing everyone else on the same link.
   */
  personal: boolean;
}

/** A participant: waiting in the lobby or admitted. */
export class Peer {
  /** Random id, unique per join; never derived from the display name or identity. */
  readonly id: string;
  /** Name shown to others. */
  readonly displayName: string;
  readonly identity: PeerIdentity;
  /** Sources a moderator muted that the participant may not unmute by themselves. */
  readonly lockedSources = new Set<TrackSource>();
  /** What a new connection must show to take this participant back after a drop. */
  readonly resumeSecret = new ResumeSecret();
  #media: PeerMedia;
  #notifier: Notifier;
  readonly #roles: RolesConfig;
  #admitted = false;
  #presenter = false;
  #rtpCapabilities: ClientParameters | undefined;
  /**
   * Which part of the class they see and hear: `main`, or a breakout room. Set only by
   * Room.moveToGroups, which rewires their consumers to match.
   */
  group = 'main';

  constructor(id: string, displayName: string, identity: PeerIdentity, media: PeerMedia, notifier: Notifier, roles: RolesConfig) {
    this.id = id;
    this.displayName = displayName;
    this.identity = identity;
    this.#media = media;
    this.#notifier = notifier;
    this.#roles = roles;
  }

  /** Their transports, producers and consumers. */
  get media(): PeerMedia {
    return this.#media;
  }

  /** Give them media on another worker (the room moved after its worker died). */
  replaceMedia(media: PeerMedia): void {
    this.#media = media;
  }

  /** Where their notifications go: their connection, or a holding queue while it is down. */
  get notifier(): Notifier {
    return this.#notifier;
  }

  /** Send their notifications somewhere else from now on; returns where they went until now. */
  switchNotifier(notifier: Notifier): Notifier {
    const previous = this.#notifier;
    this.#notifier = notifier;
    return previous;
  }

  /** Their role. */
  get role(): Role {
    return this.identity.role;
  }

  /** Whether they are in the class (not waiting in the lobby). */
  get admitted(): boolean {
    return this.#admitted;
  }

  /** Let them in. */
  admit(): void {
    this.#admitted = true;
  }

  /** Whether an instructor made them presenter. */
  get presenter(): boolean {
    return this.#presenter;
  }

  set presenter(value: boolean) {
    this.#presenter = value;
  }

  /** Whether their role (plus presenter rights) grants a permission. */
  can(permission: Permission): boolean {
    return this.#roles[this.role].includes(permission) || (this.#presenter && this.#roles.presenter.includes(permission));
  }

  /** Everything they may do, for the client to show the right controls. */
  permissions(): Permission[] {
    const granted = new Set<Permission>(this.#roles[this.role]);
    if (this.#presenter) for (const p of this.#roles.presenter) granted.add(p);
    return [...granted];
  }

  /** What their browser can decode; set by `ready`. */
  get rtpCapabilities(): ClientParameters | undefined {
    return this.#rtpCapabilities;
  }

  /** Whether they sent `ready`: only ready peers are visible to others and receive media. */
  get ready(): boolean {
    return this.#rtpCapabilities !== undefined;
  }

  /** Record the browser's capabilities; from now on the peer is visible and receives media. */
  markReady(rtpCapabilities: ClientParameters): void {
    this.#rtpCapabilities = rtpCapabilities;
  }

  /** Push a notification to their browser. */
  notify<N extends NotificationName>(method: N, data: NotificationData<N>): void {
    this.#notifier.notify(method, data);
  }

  /** The public view of this peer that others receive. */
  info(): PeerInfo {
    return {
      id: this.id,
      displayName: this.displayName,
      role: this.role,
      presenter: this.#presenter,
      producers: [...this.media.tracks.values()].map((t) => ({ id: t.id, kind: t.kind, source: t.source, paused: t.paused })),
    };
  }
}
