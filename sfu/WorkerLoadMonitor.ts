// Measures each worker every few seconds: the CPU time its process used (getResourceUsage: user +
// system) over the wall time since the last sample, and the bitrate its sending transports report.
// With it, each live track's packet and bit rate per layer (TrackRates: one stats call per track).
// Placement reads the last sample; a sample is a few IPC calls per worker and track, nothing per packet or consumer.
import type { WorkerPool } from './WorkerPool.js';
import type { TrackRates } from './TrackRates.js';
import type { Track } from './Track.js';

/**
 * How soon after its first reading a new track is read again for its rate. Until then it weighs the
 * conservative default (TrackRates.UNMEASURED: a full camera layer), so joins right after a camera
 * starts, the usual start of a class, were measured against 1.5 Mbit/s per thumbnail: 18 of 61 bots
 * of the class bench were refused at 9 % of each core while the next sample was up to 2 s away.
 */
const SOON_MS = 300;
/** Quick readings after a publish (or a periodic sample that found a new track) before waiting for the next sample. */
const QUICK_READINGS = 4;

/** Periodic CPU and bitrate sampling of a pool's workers. */
export class WorkerLoadMonitor {
  readonly #pool: WorkerPool;
  readonly #rates: TrackRates;
  readonly #tracks: () => Iterable<Track>;
  readonly #timer: NodeJS.Timeout;
  /** A second reading of tracks first read in the last sample, sooner than the next sample. */
  #soon: NodeJS.Timeout | undefined;
  #closed = false;
  /** Last CPU reading per worker pid: CPU ms used and wall ms at the time. */
  readonly #last = new Map<number, { cpuMs: number; atMs: number }>();
  #sampling = false;
  /** Quick readings left before the next sample. */
  #quickReadings = 0;
  /** A quick reading of the tracks is running. */
  #reading = false;
  /** A track was published since the last quick reading began (that reading may not have seen it). */
  #published = false;

  /** Start sampling every `intervalMs`: the pool's workers, and `tracks` into `rates`. */
  constructor(pool: WorkerPool, intervalMs: number, rates: TrackRates, tracks: () => Iterable<Track>) {
    this.#pool = pool;
    this.#rates = rates;
    this.#tracks = tracks;
    this.#timer = setInterval(() => void this.sample(), intervalMs);
    // Sampling must never keep a process alive on its own.
    this.#timer.unref();
  }

  /** Take one sample now (also what the timer does); overlapping calls share the running one. */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      await Promise.all([this.#rates.sample(this.#tracks()), this.#sampleWorkers()]);
    } finally {
      this.#sampling = false;
    }
    // A track just published weighs the conservative default until it has a rate: give it one soon.
    this.#quickReadings = Math.max(this.#quickReadings, 1);
    this.#measureSoon();
  }

  /** A track was published: read the tracks now and again SOON_MS later, so it has a rate within that, not at the next sample. */
  measureNewTracks(): void {
    if (this.#closed) return;
    this.#quickReadings = QUICK_READINGS;
    this.#published = true;
    // One reading at a time, whatever the number of publications: a class whose 60 microphones
    // start together is read a few times, not 60 (each reading is one stats call per track).
    if (!this.#reading && !this.#soon) void this.#quickReading();
  }

  async #quickReading(): Promise<void> {
    this.#reading = true;
    this.#published = false;
    try {
      await this.#rates.sample(this.#tracks());
    } finally {
      this.#reading = false;
    }
    this.#measureSoon();
  }

  /**
   * While a track read has no rate, or one was published during the last reading: read again soon,
   * a few times (one that sends nothing yet, e.g. a muted microphone, waits for the periodic sample).
   */
  #measureSoon(): void {
    if (this.#soon || this.#closed || this.#quickReadings <= 0) return;
    if (!this.#rates.unrated && !this.#published) return;
    this.#quickReadings -= 1;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.#quickReading();
    }, SOON_MS);
    this.#soon.unref();
  }

  async #sampleWorkers(): Promise<void> {
    try {
      await Promise.all(this.#pool.live.map(async (w) => {
        const [usage, bitrates] = await Promise.all([
          w.worker.getResourceUsage(),
          Promise.all([...w.senders].map((t) => (t.getStats() as Promise<{ sendBitrate?: number }[]>).then((s) => s[0]?.sendBitrate ?? 0, () => 0))),
        ]);
        const cpuMs = usage.ru_utime + usage.ru_stime;
        const atMs = performance.now();
        const last = this.#last.get(w.worker.pid);
        if (last && atMs > last.atMs) w.cpu = (cpuMs - last.cpuMs) / (atMs - last.atMs);
        this.#last.set(w.worker.pid, { cpuMs, atMs });
        w.sendBitrate = bitrates.reduce((a, b) => a + b, 0);
      }));
    } catch {
      // A worker closing mid-sample: the next sample reads the live ones again.
    }
  }

  /** Stop sampling. Idempotent. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
  }
}
