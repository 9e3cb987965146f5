// A consumer counted on its worker from the moment it is asked for, not when the worker answers:
// subscribers asked for at the same moment must see each other's load (placement, admission), and
// a second ask for the same track while the first is in flight must see it taken. Uncounted when
// the consumer closes, or at once when making it fails. Each one counted is also listed with the
// track it forwards, so its load is weighed by that track's measured rate (TrackRates), not counted as one.
import type { Forwarded, ForwardingConsumer } from './TrackRates.js';
import type { TrackConsumer, TrackKind } from './Track.js';
import type { PooledWorker } from './WorkerPool.js';

/** Where a counted consumer sits and what it forwards. */
export interface ForwardingPlace {
  /** The room's router it is on (RoomRouter). */
  router?: object;
  /** Kind of the track, when known. */
  kind?: TrackKind;
  /** A pipe consumer to another router (forwards every layer). */
  pipe?: boolean;
  /** Whether its paused consumer is paused only until set up (default: until first resumed). */
  settingUp?: () => boolean;
  /** Whether its subscriber's transport estimates its bandwidth (a browser's; default not). */
  estimates?: boolean;
}

/** A consumer being counted on a worker: tell it the consumer once made, uncount it when gone. */
export interface ForwardingCount {
  /** The worker made it: weigh it by its own state (paused, layer) from now on. */
  made(consumer: ForwardingConsumer): void;
  /** It closed or was never made. Idempotent. */
  uncount(): void;
}

/** Count one consumer of `trackId` on `worker` now, before the worker is asked to make it. */
export function countForwarding(worker: PooledWorker, trackId: string, place: ForwardingPlace = {}): ForwardingCount {
  let resumed = false;
  const entry: Forwarded = {
    trackId,
    kind: place.kind,
    pipe: place.pipe ?? false,
    router: place.router,
    estimates: place.estimates ?? false,
    consumer: undefined,
    settingUp: place.settingUp ?? (() => !resumed),
  };
  worker.consumers += 1;
  worker.forwarded.add(entry);
  let counted = true;
  return {
    made: (consumer) => {
      entry.consumer = consumer;
      resumed = !consumer.paused;
      if (!resumed) consumer.observer.once('resume', () => (resumed = true));
    },
    uncount: () => {
      if (!counted) return;
      counted = false;
      worker.consumers -= 1;
      worker.forwarded.delete(entry);
    },
  };
}

/**
 * Run `make` (which creates one consumer of `trackId` on `worker`) with the consumer counted and
 * the track marked in `inFlight` meanwhile; both stay until the consumer closes.
 */
export async function countedConsumer<T>(
  worker: PooledWorker,
  inFlight: Set<string>,
  trackId: string,
  make: () => Promise<T>,
  consumerOf: (made: T) => TrackConsumer,
  place: ForwardingPlace = {},
): Promise<T> {
  inFlight.add(trackId);
  const count = countForwarding(worker, trackId, place);
  let done = false;
  const uncount = (): void => {
    if (done) return;
    done = true;
    count.uncount();
    inFlight.delete(trackId);
  };
  let made: T;
  try {
    made = await make();
  } catch (error) {
    uncount();
    throw error;
  }
  const consumer = consumerOf(made);
  count.made(consumer);
  // Closed already (its transport went while the worker answered): its close event has passed.
  if (consumer.closed) uncount();
  else consumer.observer.once('close', uncount);
  return made;
}
