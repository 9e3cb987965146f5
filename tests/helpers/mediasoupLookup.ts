// Finds mediasoup consumers and transports by id through mediasoup's own observer API, so tests can
// check what the worker really does (paused or not, which transport carries what) rather than what
// the server says. Import it before any worker is created.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';

const consumers = new Map<string, types.Consumer>();
const transports = new Map<string, types.Transport>();
/** Live consumer ids per transport id. */
const consumersByTransport = new Map<string, Set<string>>();

mediasoup.observer.on('newworker', (worker) => {
  worker.observer.on('newrouter', (router) => {
    router.observer.on('newtransport', (transport) => {
      transports.set(transport.id, transport);
      const live = new Set<string>();
      consumersByTransport.set(transport.id, live);
      transport.observer.once('close', () => transports.delete(transport.id));
      transport.observer.on('newconsumer', (consumer) => {
        consumers.set(consumer.id, consumer);
        live.add(consumer.id);
        consumer.observer.once('close', () => {
          consumers.delete(consumer.id);
          live.delete(consumer.id);
        });
      });
    });
  });
});

/** The live consumer with this id, if any. */
export function mediasoupConsumer(id: string): types.Consumer | undefined {
  return consumers.get(id);
}

/** The live WebRTC transport with this id, if any. */
export function mediasoupTransport(id: string): types.WebRtcTransport | undefined {
  const transport = transports.get(id);
  // Narrowed by mediasoup's own `type` field: Lectern's peers only have WebRTC transports.
  return transport?.type === 'webrtc' ? (transport as types.WebRtcTransport) : undefined;
}

/** The live consumers the worker has on a transport. */
export function consumersOnTransport(transportId: string): types.Consumer[] {
  return [...(consumersByTransport.get(transportId) ?? [])].flatMap((id) => consumers.get(id) ?? []);
}
