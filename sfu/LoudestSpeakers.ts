// Audio that is not N^2: when more microphones are open in a group than the room forwards, only the
// loudest reach the others (SpeakerSelection decides; mediasoup's AudioLevelObserver measures). The
// others' audio consumers are paused here, in the worker, and resumed when they get loud again.
//
// A consumer flows only when both its receiver wants it (the client resumed it once its track was
// wired up) and its microphone is forwarded. PeerMedia routes its receivers' pause/resume of audio
// consumers through this gate, so neither side undoes the other.
import type { types } from 'mediasoup';
import { TypedEmitter } from './TypedEmitter.js';
import { SpeakerSelection, type SpeakerSelectionTuning } from './SpeakerSelection.js';
import type { TrackConsumer, TrackProducer } from './Track.js';

/** What the gate uses of a consumer: a mediasoup one, or one on an edge node (EdgePeerMedia). */
export type GatedConsumer = Pick<TrackConsumer, 'id' | 'producerId' | 'closed' | 'pause' | 'resume'> & {
  readonly observer: { once(event: 'close', listener: () => void): unknown };
};

/** How PeerMedia lets its receivers' consumers be paused by the room as well. */
export interface ConsumerGate {
  /** A consumer was created (paused). */
  add(consumer: GatedConsumer): void;
  /** The receiver wants media to flow on it. */
  resume(consumer: GatedConsumer): Promise<void>;
  /** The receiver wants it paused. */
  pause(consumer: GatedConsumer): Promise<void>;
}

/** Events of LoudestSpeakers. */
export type LoudestSpeakersEvents = {
  /** A microphone's audio started or stopped being forwarded. */
  forwarding: [producerId: string, forwarded: boolean];
};

// Levels are averaged by the worker over this interval: long enough for a stable average (the
// worker needs 10 packets, 200 ms of Opus), short enough that a new speaker is heard within ~half a second.
const INTERVAL_MS = 500;
const TUNING: SpeakerSelectionTuning = { holdMs: 2000, marginDb: 6, minForwardMs: 1500 };

interface Gated {
  consumer: GatedConsumer;
  /** What the receiver asked for. */
  wanted: boolean;
  /** What was last asked of the worker (calls queue in order on its channel, so the last one holds). */
  flowing: boolean;
}

/** The room's audio forwarding: the loudest M per group, plus pinned participants. */
export class LoudestSpeakers extends TypedEmitter<LoudestSpeakersEvents> implements ConsumerGate {
  readonly #observer: types.AudioLevelObserver;
  readonly #selection: SpeakerSelection;
  readonly #consumers = new Map<string, Map<string, Gated>>();
  #closed = false;

  /** Observe the audio levels of a router's microphones; `limit` 0 forwards them all. */
  static async create(router: types.Router, limit = 0): Promise<LoudestSpeakers> {
    // Every open microphone is reported every interval (threshold at the bottom of the scale), so
    // silence is measured too rather than inferred from a missing event.
    const observer = await router.createAudioLevelObserver({ maxEntries: 10_000, threshold: -127, interval: INTERVAL_MS });
    return new LoudestSpeakers(observer, new SpeakerSelection(limit, TUNING));
  }

  private constructor(observer: types.AudioLevelObserver, selection: SpeakerSelection) {
    super();
    this.#observer = observer;
    this.#selection = selection;
    observer.on('volumes', (volumes) => this.#measured(new Map(volumes.map((v) => [v.producer.id, v.volume]))));
    observer.on('silence', () => this.#measured(new Map()));
    observer.observer.once('close', () => (this.#closed = true));
  }

  /** How many open microphones per group are forwarded (0: all of them). */
  get limit(): number {
    return this.#selection.limit;
  }

  /** Change the limit; applied at once. */
  setLimit(limit: number): void {
    this.#selection.limit = limit;
    this.#apply();
  }

  /**
   * Always forward this participant (an instructor, a presenter), outside the limit. The server
   * decides who; the media engine knows no roles.
   */
  pin(peerId: string, pinned: boolean): void {
    this.#selection.pin(peerId, pinned);
    this.#apply();
  }

  /** The group (main room, a breakout room) a participant hears and is heard in. */
  setGroup(peerId: string, group: string): void {
    this.#selection.setGroup(peerId, group);
    this.#apply();
  }

  /** Forget a participant whose media closed. */
  forgetPeer(peerId: string): void {
    this.#selection.forgetPeer(peerId);
  }

  /** Whether a microphone's audio is forwarded now. */
  isForwarded(producerId: string): boolean {
    return this.#selection.isForwarded(producerId);
  }

  /**
   * Start measuring and gating a new microphone. The observer sits on the room's first router; a
   * microphone published on another is measured once `piped` there (the pipe keeps its id).
   */
  addProducer(producer: TrackProducer, piped: Promise<unknown> = Promise.resolve()): void {
    if (this.#closed || producer.kind !== 'audio') return;
    piped.then(() => this.#observer.addProducer({ producerId: producer.id })).catch(() => undefined); // closed meanwhile
    this.#selection.add({ id: producer.id, peerId: producer.appData.peerId, paused: producer.paused });
    this.#consumers.set(producer.id, new Map());
    producer.observer.on('pause', () => this.#paused(producer.id, true));
    producer.observer.on('resume', () => this.#paused(producer.id, false));
    producer.observer.once('close', () => {
      this.#selection.remove(producer.id);
      this.#consumers.delete(producer.id);
      this.#apply();
    });
    this.#apply();
  }

  /** @inheritdoc */
  add(consumer: GatedConsumer): void {
    const gated = this.#consumers.get(consumer.producerId);
    if (!gated) return; // video, or a microphone this room does not gate
    gated.set(consumer.id, { consumer, wanted: false, flowing: false });
    consumer.observer.once('close', () => gated.delete(consumer.id));
  }

  /** @inheritdoc */
  async resume(consumer: GatedConsumer): Promise<void> {
    const entry = this.#consumers.get(consumer.producerId)?.get(consumer.id);
    if (!entry) return consumer.resume();
    entry.wanted = true;
    await this.#set(entry, this.#selection.isForwarded(consumer.producerId));
  }

  /** @inheritdoc */
  async pause(consumer: GatedConsumer): Promise<void> {
    const entry = this.#consumers.get(consumer.producerId)?.get(consumer.id);
    if (!entry) return consumer.pause();
    entry.wanted = false;
    await this.#set(entry, false);
  }

  /** Stop observing (the router closing does it too). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#observer.close();
  }

  #paused(producerId: string, paused: boolean): void {
    this.#selection.setPaused(producerId, paused);
    this.#apply();
  }

  #measured(levels: ReadonlyMap<string, number>): void {
    this.#selection.measure(Date.now(), levels);
    this.#apply();
  }

  #apply(): void {
    if (this.#closed) return;
    for (const { id, forwarded } of this.#selection.decide(Date.now())) {
      for (const entry of this.#consumers.get(id)?.values() ?? []) {
        this.#set(entry, forwarded).catch(() => undefined); // the consumer closed meanwhile
      }
      this.emit('forwarding', id, forwarded);
    }
  }

  /** Make a consumer flow when its receiver wants it and its microphone is forwarded. */
  async #set(entry: Gated, forwarded: boolean): Promise<void> {
    const flowing = entry.wanted && forwarded;
    if (flowing === entry.flowing || entry.consumer.closed) return;
    entry.flowing = flowing;
    await (flowing ? entry.consumer.resume() : entry.consumer.pause());
  }
}
