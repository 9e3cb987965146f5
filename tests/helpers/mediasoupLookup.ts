// Finds mediasoup consumers and producers through mediasoup's own observer API, so tests can check
// what the worker really does (paused or not, which simulcast layer it forwards) rather than what
// the server says. Import it before any worker is created.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';

const consumers = new Map<string, types.Consumer>();
const producers = new Map<string, types.Producer>();
/** Room name (the router's appData, set by sfu/RoomMedia) of each live consumer. */
const roomOf = new Map<string, string | undefined>();

mediasoup.observer.on('newworker', (worker) => {
  worker.observer.on('newrouter', (router) => {
    const room = (router.appData as { roomName?: string }).roomName;
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newconsumer', (consumer) => {
        consumers.set(consumer.id, consumer);
        roomOf.set(consumer.id, room);
        consumer.observer.once('close', () => {
          consumers.delete(consumer.id);
          roomOf.delete(consumer.id);
        });
      });
      transport.observer.on('newproducer', (producer) => {
        producers.set(producer.id, producer);
        producer.observer.once('close', () => producers.delete(producer.id));
      });
    });
  });
});

/** The live consumer with this id, if any. */
export function mediasoupConsumer(id: string): types.Consumer | undefined {
  return consumers.get(id);
}

/** The live producer with this id, if any. */
export function mediasoupProducer(id: string): types.Producer | undefined {
  return producers.get(id);
}

/** Live consumers in the room named `roomName` whose track matches `appData` (e.g. `{ peerId, source }`). */
export function mediasoupConsumersIn(roomName: string, appData: Record<string, unknown> = {}): types.Consumer[] {
  return [...consumers.values()].filter(
    (consumer) => roomOf.get(consumer.id) === roomName && Object.entries(appData).every(([key, value]) => consumer.appData[key] === value),
  );
}

/** Every live mediasoup consumer (in every worker of this process). */
export function mediasoupConsumers(): types.Consumer[] {
  return [...consumers.values()];
}
