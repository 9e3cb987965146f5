// What one subscriber receives of the video others send (last N), a rule of the subscriber itself:
// media flows on a subscription when the subscriber has set it up (a browser attached the track),
// it is in its view, and it is not a camera in low-bandwidth mode. The number of video
// subscriptions is capped whatever a client asks, so a class where 100 students have cameras on
// does not cost every browser 99 decoders, nor the SFU ~10,000 streams.
import type { TrackKind, TrackSource } from './Track.js';

/** A subscription as the rule needs to see it. */
export interface ReceivedTrack {
  id: string;
  trackId: string;
  kind: TrackKind;
  source: TrackSource;
}

/** One subscriber's reception settings and video slots. */
export class Reception {
  /** Most video subscriptions this subscriber may hold. */
  readonly maxVideo: number;
  /** Video track ids in view, most important first; undefined until the subscriber names a view. */
  #view: string[] | undefined;
  #lowBandwidth = false;
  /** Subscriptions the subscriber has set up (a browser: asked to resume them). */
  readonly #attached = new Set<string>();
  /** Video tracks with a subscription, or one being made: counted against the cap. */
  readonly #video = new Set<string>();

  /** `maxVideo`: the cap (rooms.maxVideoConsumers for a browser). */
  constructor(maxVideo = Infinity) {
    this.maxVideo = maxVideo;
  }

  /** The same view and mode, with no slots taken: for the same participant's media on a new worker. */
  carryOver(): Reception {
    const next = new Reception(this.maxVideo);
    next.#view = this.#view && [...this.#view];
    next.#lowBandwidth = this.#lowBandwidth;
    return next;
  }

  /** Whether they asked for audio and slides only. */
  get lowBandwidth(): boolean {
    return this.#lowBandwidth;
  }

  set lowBandwidth(value: boolean) {
    this.#lowBandwidth = value;
  }

  /** The view as applied (capped), or undefined before the subscriber named one. */
  get view(): readonly string[] | undefined {
    return this.#view;
  }

  /** Take a view; what is past the cap is not sent. */
  setView(video: readonly string[]): void {
    this.#view = video.slice(0, this.maxVideo);
  }

  /** Whether a video track is wanted: in view, or any while no view was named. */
  wants(trackId: string): boolean {
    return this.#view === undefined || this.#view.includes(trackId);
  }

  /** Whether a slot can be had for a wanted track: one is free, it holds one, or an off-view one can make room. */
  canClaim(trackId: string): boolean {
    return this.wants(trackId) && (this.#video.size < this.maxVideo || this.#video.has(trackId) || this.offView().length > 0);
  }

  /** Take one of the capped video slots for a track; false when all are taken. */
  claimVideo(trackId: string): boolean {
    if (this.#video.size >= this.maxVideo && !this.#video.has(trackId)) return false;
    this.#video.add(trackId);
    return true;
  }

  /** A video subscription ended (or was never made): its slot is free. */
  releaseVideo(trackId: string): void {
    this.#video.delete(trackId);
  }

  /** Tracks holding a slot that are no longer in view: what to end to make room. */
  offView(): string[] {
    return [...this.#video].filter((trackId) => !this.wants(trackId));
  }

  /** The subscriber set this subscription up. */
  attach(subscriptionId: string): void {
    this.#attached.add(subscriptionId);
  }

  /** The subscription is gone. */
  forget(subscriptionId: string): void {
    this.#attached.delete(subscriptionId);
  }

  /** Whether media should flow on this subscription now. */
  flows(track: ReceivedTrack): boolean {
    return this.#attached.has(track.id) && this.wouldFlow(track);
  }

  /** Whether it is paused only until the subscriber sets it up: not attached yet, and would flow then (what load counts it by). */
  settingUp(track: ReceivedTrack): boolean {
    return !this.#attached.has(track.id) && this.wouldFlow(track);
  }

  /** Whether media would flow on this subscription once set up. */
  wouldFlow(track: ReceivedTrack): boolean {
    if (track.kind === 'audio') return true;
    if (this.#lowBandwidth && track.source === 'camera') return false;
    return this.wants(track.trackId);
  }
}
