// A consumer counted on its worker from the moment it is asked for, not when the worker answers:
// subscribers asked for at the same moment must see each other's load (placement, admission), and
// a second ask for the same track while the first is in flight must see it taken. Uncounted when
// the consumer closes, or at once when making it fails.
import type { TrackConsumer } from './Track.js';
import type { PooledWorker } from './WorkerPool.js';

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
): Promise<T> {
  inFlight.add(trackId);
  worker.consumers += 1;
  let counted = true;
  const uncount = (): void => {
    if (!counted) return;
    counted = false;
    worker.consumers -= 1;
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
  // Closed already (its transport went while the worker answered): its close event has passed.
  if (consumer.closed) uncount();
  else consumer.observer.once('close', uncount);
  return made;
}
