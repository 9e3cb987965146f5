// Finds mediasoup consumers, producers and transports through mediasoup's own observer API, so
// tests can check what the worker really does (paused or not, which simulcast layer it forwards,
// which transport carries what) rather than what the server says. Import it before any worker is created.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';

const consumers = new Map<string, types.Consumer>();
const producers = new Map<string, types.Producer>();
const transports = new Map<string, types.Transport>();
/** Room name (the router's appData, set by sfu/RoomRouter) of each live consumer. */
const roomOf = new Map<string, string | undefined>();
/** Live consumer ids per transport id. */
const consumersByTransport = new Map<string, Set<string>>();

mediasoup.observer.on('newworker', (worker) => {
  worker.observer.on('newrouter', (router) => {
    const room = (router.appData as { roomName?: string }).roomName;
    router.observer.on('newtransport', (transport) => {
      transports.set(transport.id, transport);
      const live = new Set<string>();
      consumersByTransport.set(transport.id, live);
      transport.observer.once('close', () => {
        transports.delete(transport.id);
        consumersByTransport.delete(transport.id);
      });
      transport.observer.on('newconsumer', (consumer) => {
        consumers.set(consumer.id, consumer);
        roomOf.set(consumer.id, room);
        live.add(consumer.id);
        consumer.observer.once('close', () => {
          consumers.delete(consumer.id);
          roomOf.delete(consumer.id);
          live.delete(consumer.id);
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

/** Every live producer. */
export function mediasoupProducers(): types.Producer[] {
  return [...producers.values()];
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

/** The id of the transport that carries this live consumer, if any. */
export function transportOfConsumer(consumerId: string): string | undefined {
  for (const [transportId, live] of consumersByTransport) if (live.has(consumerId)) return transportId;
  return undefined;
}

/** Whether the worker runs a bandwidth estimator on this transport: its stats report an available bitrate only then. */
export async function runsBandwidthEstimator(transportId: string): Promise<boolean> {
  const transport = transports.get(transportId);
  if (!transport) throw new Error(`no live transport ${transportId}`);
  const [stats] = (await transport.getStats()) as { availableOutgoingBitrate?: number }[];
  return stats?.availableOutgoingBitrate !== undefined;
}
