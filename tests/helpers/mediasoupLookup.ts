// Finds mediasoup consumers by id through mediasoup's own observer API, so tests can check what
// the worker really does (paused or not) rather than what the server says. Import it before any
// worker is created.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';

const consumers = new Map<string, types.Consumer>();

mediasoup.observer.on('newworker', (worker) => {
  worker.observer.on('newrouter', (router) => {
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newconsumer', (consumer) => {
        consumers.set(consumer.id, consumer);
        consumer.observer.once('close', () => consumers.delete(consumer.id));
      });
    });
  });
});

/** The live consumer with this id, if any. */
export function mediasoupConsumer(id: string): types.Consumer | undefined {
  return consumers.get(id);
}

/** Every live mediasoup consumer (in every worker of this process). */
export function mediasoupConsumers(): types.Consumer[] {
  return [...consumers.values()];
}
