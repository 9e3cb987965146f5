// Consumers and what they forwarded, watched through mediasoup's observer events (read only: the
// sfu is not changed or asked to keep anything). Packets and bytes come from each consumer's
// outbound-rtp stats when scraped; a consumer that closes keeps its last counts in the totals, so
// the counters only go up. In sfu/ (the node's metrics read it) so server/ touches no mediasoup object.
import type { types as mediasoupTypes } from 'mediasoup';
import type { Sfu } from './Sfu.js';

interface Counts {
  packets: number;
  bytes: number;
}

/** Live consumers and cumulative forwarded packets/bytes of one Sfu. */
export class MediaCounters {
  readonly #consumers = new Map<mediasoupTypes.Consumer, Counts>();
  readonly #closed: Counts = { packets: 0, bytes: 0 };
  readonly #watched = new WeakSet<mediasoupTypes.Worker>();

  /** Watch every worker of `sfu`, and those that replace them. */
  constructor(sfu: Sfu) {
    for (const pooled of sfu.pool.workers) this.#watch(pooled.worker);
    sfu.on('workerRespawned', ({ index }) => {
      const pooled = sfu.pool.workers.find((w) => w.index === index);
      if (pooled) this.#watch(pooled.worker);
    });
  }

  /** Consumers open now. */
  get consumers(): number {
    return this.#consumers.size;
  }

  /** Packets and bytes forwarded to subscribers so far (asks each live consumer for its stats). */
  async forwarded(): Promise<Counts> {
    await Promise.all(
      [...this.#consumers].map(async ([consumer, counts]) => {
        if (consumer.closed) return;
        try {
          let packets = 0;
          let bytes = 0;
          for (const stat of await consumer.getStats()) {
            if (stat.type !== 'outbound-rtp') continue;
            packets += stat.packetCount;
            bytes += stat.byteCount;
          }
          counts.packets = Math.max(counts.packets, packets);
          counts.bytes = Math.max(counts.bytes, bytes);
        } catch {
          // Closed while asked: its last counts stand.
        }
      }),
    );
    const total = { ...this.#closed };
    for (const counts of this.#consumers.values()) {
      total.packets += counts.packets;
      total.bytes += counts.bytes;
    }
    return total;
  }

  #watch(worker: mediasoupTypes.Worker): void {
    if (this.#watched.has(worker)) return;
    this.#watched.add(worker);
    worker.observer.on('newrouter', (router) => {
      router.observer.on('newtransport', (transport) => {
        transport.observer.on('newconsumer', (consumer) => {
          const counts: Counts = { packets: 0, bytes: 0 };
          this.#consumers.set(consumer, counts);
          consumer.observer.once('close', () => {
            this.#consumers.delete(consumer);
            this.#closed.packets += counts.packets;
            this.#closed.bytes += counts.bytes;
          });
        });
      });
    });
  }
}
