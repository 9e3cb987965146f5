// What each consumer weighs: the packets and bits per second of the track (or simulcast layer) it
// forwards, measured from the producers' own stats every load sample (one IPC call per track, none
// per consumer or packet). Placement, admission and the room-spread threshold all count load
// through weight() here, so a worker with 1,000 thumbnails and one with 100 full-size cameras are
// compared by the work they do, not by how many consumers they hold.
import type { types } from 'mediasoup';
import { trackProducer, type Track, type TrackKind } from './Track.js';
import { toEstimatingSubscriber, type ForwardLoad } from './Capacity.js';
import type { PooledWorker } from './WorkerPool.js';

/** Packets and bits per second of one RTP stream (a simulcast layer, or a track's only stream). */
export interface StreamRate {
  packetRate: number;
  bitrate: number;
}

/** What a consumer shows of itself to be weighed (a mediasoup consumer, sfu-internal). */
export type ForwardingConsumer = Pick<types.Consumer, 'id' | 'paused' | 'producerPaused' | 'type' | 'currentLayers' | 'preferredLayers' | 'observer'>;

/** One consumer counted on its worker, from the moment it is asked for until it closes. */
export interface Forwarded {
  /** The track (producer id) it forwards. */
  readonly trackId: string;
  /** Audio or video, when the asker knows (else looked up among measured tracks, else video). */
  readonly kind: TrackKind | undefined;
  /** A pipe consumer to another router: it forwards every simulcast layer. */
  readonly pipe: boolean;
  /** The room's router it is on (RoomRouter), when known: the room-spread threshold counts by router. */
  readonly router: object | undefined;
  /**
   * Whether its subscriber's transport estimates its bandwidth (a browser's): each packet it
   * forwards then costs `estimatorPacketCost` (CapacityOptions) packets of the worker's capacity.
   */
  readonly estimates: boolean;
  /** The consumer once the worker made it; until then it weighs what it will forward when it flows. */
  consumer: ForwardingConsumer | undefined;
  /**
   * Whether a paused consumer is paused only until its subscriber has set it up (then it weighs
   * what it will forward): a browser's, while not yet attached and in its view; by default, one
   * never resumed yet. A pause after that is the subscriber's (off-page tile) and weighs nothing.
   */
  settingUp: () => boolean;
}

/**
 * Weights of a track not measured yet (just published: a rate needs two samples), conservative so
 * a burst of joins before the first sample cannot overbook a worker. Audio: opus at 20 ms frames
 * (50 packets/s) up to ~100 kbit/s with headers. One video layer: the most the client's top layer
 * may send (client/src/RoomClient.ts: camera 1.2 Mbit/s, screen 1.5 Mbit/s), at ~1,000-byte
 * packets 190 packets/s, rounded up. Every layer (a pipe): the camera's three layers together
 * (0.15 + 0.5 + 1.2 Mbit/s), in smaller packets for the small layers.
 */
export const UNMEASURED: Readonly<Record<TrackKind, { layer: StreamRate; all: StreamRate }>> = {
  audio: { layer: { packetRate: 50, bitrate: 100_000 }, all: { packetRate: 50, bitrate: 100_000 } },
  video: { layer: { packetRate: 200, bitrate: 1_500_000 }, all: { packetRate: 350, bitrate: 2_000_000 } },
};

/**
 * The least a flowing stream weighs once measured (default deny: never zero). A microphone is
 * counted at its speaking rate even while DTX sends next to nothing in a silence: its speaker may
 * start at any moment. A video stream measured near zero (a still or a stalled sender) still costs
 * its keyframes and RTCP.
 */
const FLOOR: Readonly<Record<TrackKind, StreamRate>> = {
  audio: { packetRate: 50, bitrate: 32_000 },
  video: { packetRate: 5, bitrate: 20_000 },
};

/** The shortest interval a rate is computed over. */
const MIN_INTERVAL_MS = 250;

interface Measured {
  kind: TrackKind;
  /** Rate per encoding (simulcast layer), in the producer's encoding order (= spatial layer). */
  layers: StreamRate[];
  /** Last packet count per SSRC, and when it was read. */
  counts: Map<number, number>;
  atMs: number;
  /** Whether two samples have been taken (rates exist). */
  rated: boolean;
}

/** Measured packet and bit rates per track, and the weight of every consumer by them. */
export class TrackRates {
  readonly #tracks = new Map<string, Measured>();
  readonly #estimatorPacketCost: number;

  /** `estimatorPacketCost`: what a packet to an estimating subscriber weighs (CapacityOptions). */
  constructor(estimatorPacketCost = 1) {
    this.#estimatorPacketCost = estimatorPacketCost;
  }

  /** Measure `tracks` (every live one: those not listed are forgotten). Errors (a track closing) skip it. */
  async sample(tracks: Iterable<Track>): Promise<void> {
    const seen = new Set<string>();
    await Promise.all(
      [...tracks].map(async (track) => {
        seen.add(track.id);
        const producer = trackProducer(track);
        if (!producer || producer.closed) return;
        let stats: types.ProducerStat[];
        try {
          stats = await producer.getStats();
        } catch {
          return; // closed meanwhile
        }
        this.#record(track, producer.rtpParameters.encodings ?? [], stats, performance.now());
      }),
    );
    for (const id of this.#tracks.keys()) if (!seen.has(id)) this.#tracks.delete(id);
  }

  /** Whether a track was read once and has no rate yet (a second reading soon gives it one). */
  get unrated(): boolean {
    for (const m of this.#tracks.values()) if (!m.rated) return true;
    return false;
  }

  /** Whether a rate was measured for the track. */
  measured(trackId: string): boolean {
    return this.#tracks.get(trackId)?.rated ?? false;
  }

  /**
   * What one subscriber of the track forwards when it flows: its top layer (what a newcomer or an
   * ask in flight weighs); `estimates`: the subscriber estimates its bandwidth (see Forwarded).
   */
  top(trackId: string, kind: TrackKind, estimates: boolean): ForwardLoad {
    return this.#cost({ ...this.#layer(trackId, kind, undefined), consumers: 1 }, estimates);
  }

  /** What one counted consumer weighs now. */
  weight(entry: Forwarded): ForwardLoad {
    return this.#cost(this.#forwards(entry), entry.estimates);
  }

  /** `load` to a subscriber that estimates its bandwidth or not. */
  #cost(load: ForwardLoad, estimates: boolean): ForwardLoad {
    return estimates ? toEstimatingSubscriber(load, this.#estimatorPacketCost) : load;
  }

  /** What one counted consumer forwards now, in packets and bits per second. */
  #forwards(entry: Forwarded): ForwardLoad {
    const kind = entry.kind ?? this.#tracks.get(entry.trackId)?.kind ?? 'video';
    const consumer = entry.consumer;
    // Muted by the publisher (lecture mode), or paused by its subscriber (off-page tile, audio of a
    // microphone not among the loudest): nothing flows. Paused while being set up: it soon flows.
    if (consumer && (consumer.producerPaused || (consumer.paused && !entry.settingUp()))) return { packetRate: 0, bitrate: 0, consumers: 1 };
    if (entry.pipe) return { ...this.#all(entry.trackId, UNMEASURED[kind].all), consumers: 1 };
    if (!consumer || consumer.type === 'simulcast') {
      const spatial = consumer?.currentLayers?.spatialLayer ?? consumer?.preferredLayers?.spatialLayer;
      return { ...this.#layer(entry.trackId, kind, spatial), consumers: 1 };
    }
    // One stream (a single-encoding track, or SVC): all of it, unmeasured as much as one layer may send.
    return { ...this.#all(entry.trackId, UNMEASURED[kind].layer), consumers: 1 };
  }

  /**
   * What the consumers counted on `worker` forward now (only those on `router`, when given).
   * Consumers counted on the worker without an entry (made by code that only counts them) weigh
   * what an unmeasured video layer may send.
   */
  onWorker(worker: PooledWorker, router?: object): ForwardLoad {
    let packetRate = 0;
    let bitrate = 0;
    let consumers = 0;
    for (const entry of worker.forwarded) {
      if (router && entry.router !== router) continue;
      const w = this.weight(entry);
      packetRate += w.packetRate;
      bitrate += w.bitrate;
      consumers += 1;
    }
    if (!router) {
      const unlisted = Math.max(0, worker.consumers - worker.forwarded.size);
      packetRate += unlisted * UNMEASURED.video.layer.packetRate;
      bitrate += unlisted * UNMEASURED.video.layer.bitrate;
      consumers += unlisted;
    }
    return { packetRate, bitrate, consumers };
  }

  /** One layer's rate: the given spatial layer, else the top (the one sending most); unmeasured: the default. */
  #layer(trackId: string, kind: TrackKind, spatial: number | undefined): StreamRate {
    const m = this.#tracks.get(trackId);
    if (!m?.rated || m.layers.length === 0) return UNMEASURED[kind].layer;
    const chosen = (spatial !== undefined ? m.layers[spatial] : undefined) ?? m.layers.reduce((a, b) => (b.packetRate > a.packetRate ? b : a));
    return floored(chosen, m.kind);
  }

  /** Every layer together (a pipe, or a single-stream track); `unmeasured` until measured. */
  #all(trackId: string, unmeasured: StreamRate): StreamRate {
    const m = this.#tracks.get(trackId);
    if (!m?.rated || m.layers.length === 0) return unmeasured;
    const sum = m.layers.reduce((a, b) => ({ packetRate: a.packetRate + b.packetRate, bitrate: a.bitrate + b.bitrate }), { packetRate: 0, bitrate: 0 });
    return floored(sum, m.kind);
  }

  #record(track: Track, encodings: types.RtpEncodingParameters[], stats: types.ProducerStat[], atMs: number): void {
    const last = this.#tracks.get(track.id);
    // Two readings a moment apart (overlapping samples) give no rate worth the name: keep the last.
    if (last && atMs - last.atMs < MIN_INTERVAL_MS) return;
    const counts = new Map<number, number>();
    const layers: StreamRate[] = encodings.map(() => ({ packetRate: 0, bitrate: 0 }));
    if (layers.length === 0) layers.push({ packetRate: 0, bitrate: 0 });
    const seconds = last ? (atMs - last.atMs) / 1000 : 0;
    // Rated only once every stream it sends was read twice: one that just started has no rate yet.
    let rated = seconds > 0 && stats.length > 0;
    for (const stat of stats) {
      counts.set(stat.ssrc, stat.packetCount);
      const index = Math.max(0, encodings.findIndex((e) => (stat.rid !== undefined && e.rid === stat.rid) || e.ssrc === stat.ssrc));
      const layer = layers[Math.min(index, layers.length - 1)]!;
      const before = last?.counts.get(stat.ssrc);
      if (seconds > 0 && before !== undefined) layer.packetRate += Math.max(0, stat.packetCount - before) / seconds;
      else rated = false;
      layer.bitrate += stat.bitrate;
    }
    this.#tracks.set(track.id, { kind: track.kind, layers, counts, atMs, rated });
  }
}

function floored(rate: StreamRate, kind: TrackKind): StreamRate {
  return { packetRate: Math.max(rate.packetRate, FLOOR[kind].packetRate), bitrate: Math.max(rate.bitrate, FLOOR[kind].bitrate) };
}
