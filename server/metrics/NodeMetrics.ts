// The node's Prometheus metrics (prom-client): `lectern_` prefix, base units, `_total` counters,
// and no room or user labels anywhere (metrics must not become a personal-data export). A registry
// of its own per app, so several in one process (tests) do not collide.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MediaCounters, type Sfu } from '../../sfu/index.js';
import type { RoomRegistry } from '../rooms/RoomRegistry.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import { admissionRefusals } from './admissionRefusals.js';

/** One node's metrics, read when scraped. */
export class NodeMetrics {
  /** The registry the metrics listener serves. */
  readonly registry = new Registry();
  readonly #joinDuration: Histogram;

  constructor(sources: { sfu: Sfu; rooms: RoomRegistry; cluster: ClusterNode }) {
    const { sfu, rooms, cluster } = sources;
    const registers = [this.registry];
    const media = new MediaCounters(sfu);
    new Gauge({ name: 'lectern_rooms', help: 'Classes open on this node.', registers, collect() { this.set(rooms.rooms.size); } });
    new Gauge({ name: 'lectern_participants', help: 'Participants on this node.', registers, collect() { this.set(rooms.peerCount); } });
    new Gauge({ name: 'lectern_media_workers', help: 'Media worker processes running.', registers, collect() { this.set(sfu.pool.workers.length); } });
    new Gauge({ name: 'lectern_consumers', help: 'Media streams sent to subscribers now.', registers, collect() { this.set(media.consumers); } });
    new Gauge({ name: 'lectern_node_load', help: 'The fuller of participants over capacity and the media workers\' projected load over theirs (1 = full); the number placement compares.', registers, collect() { this.set(cluster.load()); } });
    new Gauge({
      name: 'lectern_cluster_coordination_up',
      help: '1 while the cluster directory answers (always 1 for a single process).',
      registers,
      collect() {
        this.set(cluster.state === 'ok' ? 1 : 0);
      },
    });
    // Both counters read one stats round: prom-client collects metrics concurrently, so the round
    // is shared by the collects of one scrape (kept for 250 ms) instead of asked for twice.
    let round: Promise<{ packets: number; bytes: number }> | undefined;
    const forwarded = () => {
      if (!round) {
        round = media.forwarded();
        setTimeout(() => (round = undefined), 250).unref();
      }
      return round;
    };
    new Counter({
      name: 'lectern_forwarded_packets_total',
      help: 'RTP packets forwarded to subscribers.',
      registers,
      async collect() {
        this.reset();
        this.inc((await forwarded()).packets);
      },
    });
    new Counter({
      name: 'lectern_forwarded_bytes_total',
      help: 'RTP bytes forwarded to subscribers.',
      registers,
      async collect() {
        this.reset();
        this.inc((await forwarded()).bytes);
      },
    });
    const restarts = new Counter({ name: 'lectern_media_worker_restarts_total', help: 'Media workers replaced after dying.', registers });
    sfu.on('workerRespawned', () => restarts.inc());
    new Counter({
      name: 'lectern_admission_refusals_total',
      help: 'Joins refused for capacity, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of admissionRefusals()) this.inc({ reason }, n);
      },
    });
    this.#joinDuration = new Histogram({
      name: 'lectern_join_duration_seconds',
      help: 'Time to answer a successful join, in seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  /** Record one successful join. */
  observeJoin(seconds: number): void {
    this.#joinDuration.observe(seconds);
  }
}
