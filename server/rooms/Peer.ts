// A participant in a room, from the signalling side: who they are, their media, and the way to
// reach their browser. Typed fields only: no untyped `peer.data` bag (mediasoup-demo's mistake).
import type { PeerMedia, mediasoupTypes } from '../../sfu/index.js';
import type { NotificationName, NotificationData, PeerInfo } from '../../protocol/index.js';

/** Something that can push notifications to one browser (a signalling session). */
export interface Notifier {
  /** Send a notification frame; silently dropped if the connection is gone. */
  notify<N extends NotificationName>(method: N, data: NotificationData<N>): void;
}

/** A joined participant. */
export class Peer {
  /** Random id, unique per join; never derived from the display name. */
  readonly id: string;
  /** Name shown to others. */
  readonly displayName: string;
  /** Their transports, producers and consumers. */
  readonly media: PeerMedia;
  readonly #notifier: Notifier;
  #rtpCapabilities: mediasoupTypes.RtpCapabilities | undefined;

  constructor(id: string, displayName: string, media: PeerMedia, notifier: Notifier) {
    this.id = id;
    this.displayName = displayName;
    this.media = media;
    this.#notifier = notifier;
  }

  /** What their browser can decode; set by `ready`. */
  get rtpCapabilities(): mediasoupTypes.RtpCapabilities | undefined {
    return this.#rtpCapabilities;
  }

  /** Whether they sent `ready`: only ready peers are visible to others and receive media. */
  get ready(): boolean {
    return this.#rtpCapabilities !== undefined;
  }

  /** Record the browser's capabilities; from now on the peer is visible and receives media. */
  markReady(rtpCapabilities: mediasoupTypes.RtpCapabilities): void {
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
      producers: [...this.media.producers.values()].map((p) => ({
        id: p.id,
        kind: p.kind,
        source: p.appData.source,
        paused: p.paused,
      })),
    };
  }
}
