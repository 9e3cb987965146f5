// Liveness for load balancers and systemd watchdogs: 200 while at least one media worker runs.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Sfu } from '../../sfu/index.js';
import type { RoomRegistry } from '../rooms/RoomRegistry.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  workers: Type.Integer(),
  rooms: Type.Integer(),
  peers: Type.Integer(),
});

/** GET /healthz. Counts only: no names, no addresses. */
export async function health(app: FastifyInstance, options: { sfu: Sfu; rooms: RoomRegistry }): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    const workers = options.sfu.workerCount;
    const body = {
      status: workers > 0 ? ('ok' as const) : ('degraded' as const),
      workers,
      rooms: options.rooms.rooms.size,
      peers: options.rooms.peerCount,
    };
    return reply.code(workers > 0 ? 200 : 503).send(body);
  });
}
