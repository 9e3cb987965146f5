// One of a room's routers: the room starts on one, and gets another on a second worker when its
// load on the first passes the spread threshold. Tracks published on one router reach the others
// through pipeToRouter, keeping their id, so a subscriber consumes a track by the same id wherever
// it sits. mediasoup closes a pipe's far end when the track ends, and with it the far consumers.
import type { types } from 'mediasoup';
import type { PooledWorker } from './WorkerPool.js';
import type { Track, TrackCounts } from './Track.js';
import { countForwarding } from './countedConsumer.js';

/** A subscriber placed on a router, as the router counts it. */
export interface PlacedSubscriber {
  /** Unique in its room (its own tracks are not due to it). */
  readonly id: string;
  /** Its live subscriptions (what it receives already is counted on its worker, by what it forwards). */
  readonly subscriptions: ReadonlyMap<string, unknown>;
  /** How many subscriptions it holds or is due to hold with `tracks` tracks in the room. */
  expectedSubscriptions(tracks: TrackCounts): number;
  /** Whether it receives `trackId`, or a subscription to it is being made. */
  subscribes(trackId: string): boolean;
  /** The tracks it publishes itself, if it publishes (it is not due those). */
  readonly tracks?: ReadonlyMap<string, Track>;
  /** Whether its transport estimates its bandwidth (a browser's): what it is due then costs more (TrackRates). */
  readonly estimatesBandwidth: boolean;
}

/** A router of a room on one worker, and who is placed on it. */
export class RoomRouter {
  /** The worker it runs on. */
  readonly host: PooledWorker;
  /** Subscribers placed on it (browsers placed before their router exists count too). */
  readonly placed = new Set<PlacedSubscriber>();
  readonly #ready: Promise<types.Router>;
  #router: types.Router | undefined;
  /** Tracks piped in (or being piped) from another router, by track id. */
  readonly #piped = new Map<string, Promise<void>>();
  #closed = false;

  /**
   * Start a router on `host`. Counted on the worker at once, before the worker answers: routers
   * asked for at the same moment must spread out, not all see the same least loaded worker.
   */
  static start(host: PooledWorker, roomName: string, mediaCodecs: types.RouterRtpCodecCapability[], appData: Record<string, unknown> = {}): RoomRouter {
    return new RoomRouter(host, roomName, mediaCodecs, appData);
  }

  private constructor(host: PooledWorker, roomName: string, mediaCodecs: types.RouterRtpCodecCapability[], appData: Record<string, unknown>) {
    this.host = host;
    host.routers += 1;
    this.#ready = host.worker.createRouter({ mediaCodecs, appData: { ...appData, roomName } }).then(
      (router) => {
        this.#router = router;
        if (this.#closed) router.close();
        return router;
      },
      (error: unknown) => {
        this.close();
        throw error;
      },
    );
    this.#ready.catch(() => undefined); // reported to whoever awaits ready()
  }

  /** The router once the worker made it. */
  ready(): Promise<types.Router> {
    return this.#ready;
  }

  /** The router, if made already. */
  get router(): types.Router | undefined {
    return this.#router;
  }

  /** Whether the router is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Make `track`, published on router `from`, consumable here. One pipe per track and router however
   * many subscribers ask at once; forgotten when the piped copy closes (the track ended).
   */
  pipeFrom(from: RoomRouter, track: Track): Promise<void> {
    if (from === this) return Promise.resolve();
    let pending = this.#piped.get(track.id);
    if (pending) return pending;
    pending = (async () => {
      const [source, target] = await Promise.all([from.ready(), this.ready()]);
      // The pipe consumer sends on the publishing worker, every layer of the track: it is counted
      // there like any consumer (on the publishing router: its spread threshold counts it too).
      const { uncount, made } = countForwarding(from.host, track.id, { router: from, kind: track.kind, pipe: true });
      try {
        const { pipeConsumer, pipeProducer } = await source.pipeToRouter({ producerId: track.id, router: target });
        if (pipeConsumer) made(pipeConsumer);
        pipeConsumer?.observer.once('close', uncount);
        pipeProducer?.observer.once('close', () => this.#piped.delete(track.id));
        if (!pipeConsumer || pipeConsumer.closed) uncount();
      } catch (error) {
        uncount();
        this.#piped.delete(track.id);
        throw error;
      }
    })();
    this.#piped.set(track.id, pending);
    return pending;
  }

  /** Close the router (its transports, and so everything on it). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.host.routers -= 1;
    this.#router?.close();
    this.#piped.clear();
  }
}
