// GET /admin/cluster: the live cluster registry as this node reads it, for `lectern audit --url`.
// Admin-only, read-only; node ids, URLs and placements only (no rooms, no participants). Entries
// the registry refuses for placement are listed too: the audit reports them, it does not hide them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_CLUSTER_PATH, ClusterRegistrySchema, type ClusterRegistry } from '../../audit/sources/clusterRegistry.js';
import { AuthError, type Authenticator } from '../auth/index.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import type { NodeRecord } from '../cluster/NodeRecord.js';

/** Register GET /admin/cluster. */
export async function adminCluster(app: FastifyInstance, options: { cluster: ClusterNode; authenticator: Authenticator }): Promise<void> {
  const { cluster, authenticator } = options;
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
      return { nodeId: cluster.nodeId, coordination: 'redis', state: 'ok', nodes: (await cluster.coordinator.nodes({ includeRefused: true })).map(view) };
    } catch (error) {
      request.log.warn({ err: error }, 'cluster registry unreadable for /admin/cluster');
      return { nodeId: cluster.nodeId, coordination: 'redis', state: 'degraded', nodes: [] };
    }
  });
}
