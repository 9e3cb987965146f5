// Fixed-resolution latency histogram: 10 µs buckets up to 1 s, so recording costs one array
// increment per packet whatever the packet rate, and histograms from several sinks merge by addition.

const BUCKET_NS = 10_000;
const BUCKETS = 100_000;

/** Latency samples in 10 µs buckets; anything above 1 s lands in the last bucket. */
export class LatencyHistogram {
  readonly counts: Uint32Array;
  #total = 0;

  constructor(counts?: Uint32Array) {
    this.counts = counts ?? new Uint32Array(BUCKETS);
    if (counts) for (const c of counts) this.#total += c;
  }

  /** Record one latency in nanoseconds. */
  record(ns: number): void {
    const bucket = ns <= 0 ? 0 : Math.min(BUCKETS - 1, Math.floor(ns / BUCKET_NS));
    this.counts[bucket]! += 1;
    this.#total += 1;
  }

  /** Number of samples. */
  get total(): number {
    return this.#total;
  }

  /** Add another histogram's samples. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.#total += other.total;
  }

  /** The q-quantile (0..1) in milliseconds (upper edge of its bucket), or NaN without samples. */
  quantileMs(q: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return ((i + 1) * BUCKET_NS) / 1e6;
    }
    return (BUCKETS * BUCKET_NS) / 1e6;
  }
}
