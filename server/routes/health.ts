// Liveness for load balancers and systemd watchdogs: 200 while at least one media worker runs
// (`degraded` with 200 while a cluster node cannot reach its directory; 503 with no worker).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Sfu } from '../../sfu/index.js';
import type { RoomRegistry } from '../rooms/RoomRegistry.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  workers: Type.Integer(),
  rooms: Type.Integer(),
  peers: Type.Integer(),
  /** In a cluster: whether the cluster directory answers (`degraded`: running classes go on, new ones are refused). */
  cluster: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('draining')])),
});

/** GET /healthz. Counts only: no names, no addresses. */
export async function health(app: FastifyInstance, options: { sfu: Sfu; rooms: RoomRegistry; cluster: ClusterNode }): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: Health, 503: Health } } }, async (_request, reply) => {
    const workers = options.sfu.workerCount;
    const { cluster } = options;
    const clusterState = cluster.clustered ? (cluster.draining ? ('draining' as const) : cluster.state) : undefined;
    // The directory unreachable is degraded but still 200: the classes on this node go on, and a
    // load balancer that took the node out would end them.
    const body = {
      status: workers > 0 && (clusterState === undefined || clusterState === 'ok') ? ('ok' as const) : ('degraded' as const),
      workers,
      rooms: options.rooms.rooms.size,
      peers: options.rooms.peerCount,
      ...(clusterState !== undefined ? { cluster: clusterState } : {}),
    };
    // Draining: 503, so a load balancer sends no new connections here.
    return reply.code(workers > 0 && clusterState !== 'draining' ? 200 : 503).send(body);
  });
}
