// GET /admin/cluster: the live cluster registry as this node reads it, for `lectern audit --url`.
// Admin-only, read-only; node ids, URLs and placements only (no rooms, no participants). Entries
// the registry refuses for placement are listed too: the audit reports them, it does not hide them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_CLUSTER_PATH, ClusterRegistrySchema, type ClusterRegistry } from '../../audit/sources/clusterRegistry.js';
import { AuthError, type Authenticator } from '../auth/index.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import type { NodeRecord } from '../cluster/NodeRecord.js';
import type { EdgeNode } from '../cluster/EdgeNode.js';
import type { RoomRegistry } from '../rooms/RoomRegistry.js';

/** Register GET /admin/cluster. */
export async function adminCluster(app: FastifyInstance, options: { cluster: ClusterNode; authenticator: Authenticator; rooms: RoomRegistry; edges: EdgeNode | undefined }): Promise<void> {
  const { cluster, authenticator, rooms, edges } = options;
  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!authenticator.isAdmin(request)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new AuthError('unauthorized', 'an admin token is required (Authorization: Bearer <token>)');
    }
  };
  app.get(ADMIN_CLUSTER_PATH, { schema: { response: { 200: ClusterRegistrySchema } }, onRequest: requireAdmin }, async (request, reply): Promise<ClusterRegistry> => {
    void reply.header('cache-control', 'no-store');
    const view = (n: NodeRecord): ClusterRegistry['nodes'][number] => ({
      id: n.id,
      signallingUrl: n.signallingUrl,
      ...(n.privateAddress !== undefined ? { privateAddress: n.privateAddress } : {}),
      placement: n.placement,
      draining: n.draining,
    });
    if (!cluster.clustered) return { nodeId: cluster.nodeId, coordination: 'local', state: 'ok', nodes: [] };
    try {
      const nodes = (await cluster.coordinator.nodes({ includeRefused: true })).map(view);
      if (!edges) return { nodeId: cluster.nodeId, coordination: 'redis', state: 'ok', nodes };
      // Every pipe of this node's rooms, both ends read from their mediasoup (no room names).
      const pipes = (await rooms.pipeFlows()).map((p) => ({
        from: p.from,
        to: p.to,
        fromCountry: p.fromCountry,
        toCountry: p.toCountry,
        srtp: { home: p.home.srtp, edge: p.edge?.srtp ?? false },
        rtx: { home: p.home.rtx, edge: p.edge?.rtx ?? false },
        tracks: p.home.producers,
      }));
      // Every router on an edge node: those of this node's rooms elsewhere, and those it runs for others.
      const edgeRouters = await edges.edgeRouters();
      return { nodeId: cluster.nodeId, coordination: 'redis', state: 'ok', nodes, pipes, edgeRouters, refusedPipes: [...edges.refusedPipes] };
    } catch (error) {
      request.log.warn({ err: error }, 'cluster registry unreadable for /admin/cluster');
      return { nodeId: cluster.nodeId, coordination: 'redis', state: 'degraded', nodes: [] };
    }
  });
}
