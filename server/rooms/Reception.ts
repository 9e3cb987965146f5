// What one participant receives of the video others send. One rule decides whether media flows on
// a consumer: the client has attached it, it is on their screen (last N), and it is not a camera
// in low-bandwidth mode. The number of video consumers is capped whatever a client asks, so a
// class where 100 students have cameras on does not cost every browser 99 decoders.

/** A consumer as the rule needs to see it. */
export interface ReceivedTrack {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  source: 'microphone' | 'camera' | 'screen';
}

/** One participant's reception settings. */
export class Reception {
  /** Most video consumers this participant may hold. */
  readonly maxVideo: number;
  /** Producer ids on screen, most important first; undefined until the client names its view. */
  #view: string[] | undefined;
  #lowBandwidth = false;
  /** Consumers whose track the client has wired up (it asked to resume them). */
  readonly #attached = new Set<string>();
  /** Video tracks (producer ids) with a consumer, or one being created: counted against the cap. */
  readonly #video = new Set<string>();

  constructor(maxVideo: number) {
    this.maxVideo = maxVideo;
  }

  /** Whether they asked for audio and slides only. */
  get lowBandwidth(): boolean {
    return this.#lowBandwidth;
  }

  set lowBandwidth(value: boolean) {
    this.#lowBandwidth = value;
  }

  /** The view as the server applies it (capped), or undefined before the client named one. */
  get view(): readonly string[] | undefined {
    return this.#view;
  }

  /** Take the client's view; what is past the cap is not sent. */
  setView(video: readonly string[]): void {
    this.#view = video.slice(0, this.maxVideo);
  }

  /** Whether a video track is wanted: on screen, or any while no view was named. */
  wants(producerId: string): boolean {
    return this.#view === undefined || this.#view.includes(producerId);
  }

  /** Take one of the capped video slots for a track; false when all are taken. */
  claimVideo(producerId: string): boolean {
    if (this.#video.size >= this.maxVideo && !this.#video.has(producerId)) return false;
    this.#video.add(producerId);
    return true;
  }

  /** A video consumer closed (or was never created): its slot is free. */
  releaseVideo(producerId: string): void {
    this.#video.delete(producerId);
  }

  /** Tracks holding a slot that are no longer on screen: what to close to make room. */
  offScreen(): string[] {
    return [...this.#video].filter((producerId) => !this.wants(producerId));
  }

  /** The client attached this consumer's track. */
  attach(consumerId: string): void {
    this.#attached.add(consumerId);
  }

  /** The consumer is gone. */
  forget(consumerId: string): void {
    this.#attached.delete(consumerId);
  }

  /** Whether media should flow on this consumer now. */
  flows(track: ReceivedTrack): boolean {
    if (!this.#attached.has(track.id)) return false;
    if (track.kind === 'audio') return true;
    if (this.#lowBandwidth && track.source === 'camera') return false;
    return this.wants(track.producerId);
  }
}
