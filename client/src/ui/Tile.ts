// One participant's tile: their video, their audio, their name, mute badges and (on request) the
// connection numbers. The numbers are also kept in data-* attributes for support staff and tests.
import type { MediaSource } from '../../../protocol/index.js';
import type { RemoteTrack } from '../RoomClient.js';

/** A participant's place in the grid. */
export class Tile {
  readonly element: HTMLElement;
  readonly #video: HTMLVideoElement;
  readonly #audio: HTMLAudioElement;
  readonly #placeholder: HTMLElement;
  readonly #badges: HTMLElement;
  readonly #stats: HTMLElement;
  readonly #hand: HTMLElement;
  readonly #tracks = new Map<MediaSource, RemoteTrack>();
  readonly #audioSink: HTMLElement | undefined;

  /**
   * `audioSink` keeps the sound playing while the tile is off screen: a media element taken out of
   * the page is paused, and everyone on every page must be heard. The audio element lives there
   * while the tile is off the page and in the tile while it is on it; moved, never removed.
   */
  constructor(peerId: string, displayName: string, local = false, audioSink?: HTMLElement) {
    this.element = document.createElement('article');
    this.element.className = local ? 'tile local' : 'tile';
    this.element.dataset.peerId = peerId;
    this.element.setAttribute('aria-label', local ? `${displayName} (you)` : displayName);

    this.#video = document.createElement('video');
    this.#video.autoplay = true;
    this.#video.playsInline = true;
    this.#video.muted = true; // audio plays through the <audio> element, never echoes from video
    this.#audio = document.createElement('audio');
    this.#audio.autoplay = true;
    this.#placeholder = document.createElement('div');
    this.#placeholder.className = 'no-video';
    this.#placeholder.textContent = initials(displayName);
    this.#placeholder.setAttribute('aria-hidden', 'true');

    const name = document.createElement('div');
    name.className = 'name';
    name.textContent = local ? `${displayName} (you)` : displayName; // textContent: names are never HTML
    this.#badges = document.createElement('div');
    this.#badges.className = 'badges';
    this.#stats = document.createElement('div');
    this.#stats.className = 'stats';
    this.#stats.hidden = true;
    this.#hand = document.createElement('div');
    this.#hand.className = 'hand';
    this.#hand.hidden = true;
    this.element.append(this.#video, this.#placeholder, name, this.#badges, this.#stats, this.#hand);
    this.#audioSink = audioSink;
    (audioSink ?? this.element).append(this.#audio);
    this.#render();
  }

  /** Show my own camera preview. */
  showLocalVideo(track: MediaStreamTrack | undefined): void {
    this.#video.srcObject = track ? new MediaStream([track]) : null;
    this.#placeholder.hidden = Boolean(track);
  }

  /** Put back on screen: the browser paused the picture when the tile left the page. */
  attached(): void {
    if (this.#audioSink) this.element.append(this.#audio);
    if (this.#video.srcObject) void this.#video.play().catch(() => undefined);
  }

  /** About to leave the page: the sound moves to the sink first, so it never stops. */
  detached(): void {
    this.#audioSink?.append(this.#audio);
  }

  /** Gone for good: its sound goes too. */
  close(): void {
    this.#audio.srcObject = null;
    this.#audio.remove();
    this.element.remove();
  }

  /** Attach a received track. */
  addTrack(remote: RemoteTrack): void {
    this.#tracks.set(remote.source, remote);
    const element = remote.track.kind === 'audio' ? this.#audio : this.#video;
    element.srcObject = new MediaStream([remote.track]);
    void element.play().catch(() => undefined); // autoplay may wait for a user gesture; join was one
    this.#render();
  }

  /** Detach a track that ended. */
  removeTrack(remote: RemoteTrack): void {
    if (this.#tracks.get(remote.source)?.consumerId !== remote.consumerId) return;
    this.#tracks.delete(remote.source);
    const element = remote.track.kind === 'audio' ? this.#audio : this.#video;
    element.srcObject = null;
    this.#render();
  }

  /** The producer of the video shown here: what the server is asked to send while this tile is on screen. */
  get videoProducerId(): string | undefined {
    return (this.#tracks.get('camera') ?? this.#tracks.get('screen'))?.producerId;
  }

  /** The consumer of the video shown here, for tile-size reports (simulcast layer choice). */
  get videoConsumerId(): string | undefined {
    return (this.#tracks.get('camera') ?? this.#tracks.get('screen'))?.consumerId;
  }

  /** Highlight as the active speaker. */
  set speaking(value: boolean) {
    this.element.classList.toggle('speaking', value);
  }

  /** Show a raised hand with its place in the queue (undefined: hand down). */
  set handPosition(position: number | undefined) {
    this.#hand.hidden = position === undefined;
    this.#hand.textContent = position === undefined ? '' : `Hand ${position}`;
    this.#hand.setAttribute('aria-label', position === undefined ? '' : `hand raised, number ${position}`);
  }

  /** Re-draw mute badges after a pause/resume. */
  refresh(): void {
    this.#render();
  }

  /** Show or hide the connection numbers. */
  set statsVisible(visible: boolean) {
    this.#stats.hidden = !visible;
  }

  /** Read inbound RTP stats of this tile's tracks into data-* attributes and the overlay. */
  async updateStats(): Promise<void> {
    const lines: string[] = [];
    const video = this.#tracks.get('camera') ?? this.#tracks.get('screen');
    const audio = this.#tracks.get('microphone');
    if (video) {
      const s = inbound(await video.getStats(), 'video');
      if (s) {
        this.element.dataset.framesDecoded = String(s.framesDecoded ?? 0);
        this.element.dataset.frameHeight = String(s.frameHeight ?? 0);
        this.element.dataset.videoPackets = String(s.packetsReceived ?? 0);
        lines.push(`video ${s.frameWidth ?? 0}x${s.frameHeight ?? 0} ${Math.round(s.framesPerSecond ?? 0)} fps, lost ${s.packetsLost ?? 0}`);
      }
    }
    if (audio) {
      const s = inbound(await audio.getStats(), 'audio');
      if (s) {
        this.element.dataset.audioPackets = String(s.packetsReceived ?? 0);
        lines.push(`audio ${s.packetsReceived ?? 0} pkts, jitter ${Math.round((s.jitter ?? 0) * 1000)} ms`);
      }
    }
    this.#stats.textContent = lines.join('\n') || 'no media yet';
  }

  #render(): void {
    const camera = this.#tracks.get('camera') ?? this.#tracks.get('screen');
    const mic = this.#tracks.get('microphone');
    if (!this.element.classList.contains('local')) this.#placeholder.hidden = Boolean(camera && !camera.paused);
    // Which tracks this tile shows, for support staff (and tests) to match with the server's view.
    if (camera) {
      this.element.dataset.videoConsumer = camera.consumerId;
      this.element.dataset.videoProducer = camera.producerId;
    } else {
      delete this.element.dataset.videoConsumer;
      delete this.element.dataset.videoProducer;
    }
    this.#badges.replaceChildren(
      ...[mic?.paused ? 'mic off' : undefined, camera?.paused ? 'camera off' : undefined]
        .filter((b): b is string => b !== undefined)
        .map((text) => {
          const badge = document.createElement('span');
          badge.className = 'badge';
          badge.textContent = text;
          return badge;
        }),
    );
  }
}

interface InboundRtp {
  kind: string;
  packetsReceived?: number;
  packetsLost?: number;
  framesDecoded?: number;
  framesPerSecond?: number;
  frameWidth?: number;
  frameHeight?: number;
  jitter?: number;
}

function inbound(report: RTCStatsReport, kind: 'audio' | 'video'): InboundRtp | undefined {
  for (const stat of report.values() as IterableIterator<{ type: string } & InboundRtp>) {
    if (stat.type === 'inbound-rtp' && stat.kind === kind) return stat;
  }
  return undefined;
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('');
}
