// The edge node's part of the cluster fan-out: the subscribers the home placed here, as plain SRTP
// receivers. The edge's router, pipe ends and piped producers are the product's (EdgeService makes
// an EdgeRoom when the home opens its first pipe here over the control channel); the control channel
// has no method for a plain subscriber (its subscribers are browsers), so the bench finds the edge
// room's router through mediasoup's observer (the worker announces every new router; the EdgeRoom's
// carries appData.edge) and puts the product's PlainSubscriber on it: the same class, transport,
// consumers and SRTP as the home's plain subscribers, consuming the piped tracks under their ids.
import type { mediasoupTypes as types, PlainSubscriberHost, PooledWorker, Sfu, Subscription, TrackSource } from '../../sfu/index.js';
import { PlainSubscriber, Track } from '../../sfu/index.js';
import type { Added, AddSubscribers } from './nodeProtocol.js';

/** What EdgeRoom puts on the producers it makes for piped tracks. */
type PipedAppData = { source: TrackSource; peerId: string };

/** The edge room's router and the tracks piped into it. */
interface EdgeRouter {
  host: PlainSubscriberHost;
  tracks: Map<string, Track>;
}

/** Plain subscribers on this node's edge room. */
export class EdgeSide {
  readonly #listenIp: string;
  readonly #routers: EdgeRouter[] = [];
  readonly #subscribers: PlainSubscriber<PlainSubscriberHost>[] = [];

  /** Watch the workers for the edge room's router (made when the home opens its first pipe). */
  constructor(sfu: Sfu, listenIp: string) {
    this.#listenIp = listenIp;
    for (const pooled of sfu.pool.workers) pooled.worker.observer.on('newrouter', (router) => this.#watch(pooled, router));
  }

  /** Edge rooms' routers seen so far. */
  get routersSeen(): number {
    return this.#routers.length;
  }

  /** Plain subscribers receiving here. */
  get subscribers(): number {
    return this.#subscribers.length;
  }

  #watch(pooled: PooledWorker, router: types.Router): void {
    if ((router.appData as { edge?: unknown }).edge !== true) return;
    const entry: EdgeRouter = { host: { host: pooled, placed: new Set(), ready: () => Promise.resolve(router), router }, tracks: new Map() };
    this.#routers.push(entry);
    router.observer.on('newtransport', (transport) => {
      if (transport.type !== 'pipe') return; // the pipe ends from the home: where its tracks are produced
      transport.observer.on('newproducer', (producer) => {
        const track = new Track(producer as types.Producer<PipedAppData>);
        entry.tracks.set(track.id, track);
        producer.observer.once('close', () => entry.tracks.delete(track.id));
      });
    });
  }

  /** Subscribers on the edge room's router, each consuming every piped track (paused until resumeAll). */
  async addSubscribers(request: AddSubscribers): Promise<Added> {
    if (this.#routers.length !== 1) throw new Error(`expected one edge room here, found ${this.#routers.length} (did the home open its pipe?)`);
    const edge = this.#routers[0]!;
    const tracks = [...edge.tracks.values()];
    if (tracks.length === 0) throw new Error('no piped track on the edge room');
    const added: Added = { streams: [], here: 0, toEdge: [], refused: 0 };
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < request.count; i++) {
      const port = request.ports[i % request.ports.length]!;
      const subscriber = new PlainSubscriber<PlainSubscriberHost>(`${request.prefix}${i}`, { srtpSuite: request.suite }, { place: async () => edge.host, listenIp: this.#listenIp });
      this.#subscribers.push(subscriber);
      jobs.push(
        (async () => {
          const info = await subscriber.open({ ip: '127.0.0.1', port });
          if (!info.srtp) throw new Error(`edge subscriber ${subscriber.id}: no SRTP key`);
          for (const track of tracks) {
            if (!subscriber.wants(track)) continue;
            const subscription = await subscriber.subscribe(track);
            added.streams.push({ subscriber: subscriber.id, port, ssrc: ssrcOf(subscription), keyBase64: info.srtp.keyBase64 });
          }
          added.here++;
        })(),
      );
      if (jobs.length >= 50) await Promise.all(jobs.splice(0));
    }
    await Promise.all(jobs);
    return added;
  }

  /** Let every subscription flow. */
  async resumeAll(): Promise<void> {
    await Promise.all(this.#subscribers.flatMap((s) => [...s.subscriptions.values()].map((sub) => s.resume(sub.id))));
  }
}

/** The SSRC a subscription is sent with. */
function ssrcOf(subscription: Subscription): number {
  return subscription.rtpParameters.encodings![0]!.ssrc!;
}
