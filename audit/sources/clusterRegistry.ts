// The live cluster registry as a running node reports it (GET /admin/cluster, admin token): every
// node that registered, with the placement it registered with. The server serves exactly this
// schema and the audit validates what it receives against it; each node becomes a flow with a
// country (audit/model/cluster.ts), so a node outside the country is a finding like any flow.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Path of the endpoint on a Lectern node. */
export const ADMIN_CLUSTER_PATH = '/admin/cluster';

const Placement = Type.Object(
  {
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    region: Type.Optional(Type.String()),
    zone: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ClusterRegistrySchema = Type.Object(
  {
    /** The node that answered. */
    nodeId: Type.String(),
    /** `redis`: a shared registry; `local`: this process alone (no cluster section). */
    coordination: Type.Union([Type.Literal('redis'), Type.Literal('local')]),
    /** `degraded` when the registry could not be read: `nodes` is then only this node. */
    state: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    nodes: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          signallingUrl: Type.String(),
          privateAddress: Type.Optional(Type.String()),
          placement: Placement,
          draining: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Media pipes of the answering node's rooms to edge nodes (rooms bigger than a node): both ends'
     * countries, and whether each end runs SRTP and RTX, as its mediasoup reports. No room names.
     */
    pipes: Type.Optional(
      Type.Array(
        Type.Object(
          {
            from: Type.String(),
            to: Type.String(),
            fromCountry: Type.String({ pattern: '^[A-Z]{2}$' }),
            toCountry: Type.String({ pattern: '^[A-Z]{2}$' }),
            srtp: Type.Object({ home: Type.Boolean(), edge: Type.Boolean() }, { additionalProperties: false }),
            rtx: Type.Object({ home: Type.Boolean(), edge: Type.Boolean() }, { additionalProperties: false }),
            tracks: Type.Integer({ minimum: 0 }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    /**
     * Edge routers: those carrying the answering node's rooms on other nodes, and those it runs as
     * an edge for other nodes' rooms. Each on one media worker of `node`: the first of a room's
     * receives the home node's SRTP pipes (`home-pipe`); a big room's others get the tracks from it
     * through a pipe inside that host (`worker-pipe`, loopback). No room names.
     */
    edgeRouters: Type.Optional(
      Type.Array(
        Type.Object(
          {
            node: Type.String(),
            home: Type.String(),
            worker: Type.Integer({ minimum: 0 }),
            via: Type.Union([Type.Literal('home-pipe'), Type.Literal('worker-pipe')]),
            tracks: Type.Integer({ minimum: 0 }),
            consumers: Type.Integer({ minimum: 0 }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    /** Pipes the node refused to open because the far node is not proven in-country. */
    refusedPipes: Type.Optional(
      Type.Array(Type.Object({ to: Type.String(), country: Type.String(), reason: Type.String() }, { additionalProperties: false })),
    ),
  },
  { additionalProperties: false },
);
export type ClusterRegistry = Static<typeof ClusterRegistrySchema>;

/** Fetch and validate a node's view of the registry; throws with the reason. */
export async function readClusterRegistry(url: string, adminToken: string, timeoutMs = 10_000): Promise<ClusterRegistry> {
  const base = url.replace(/\/+$/, '');
  const response = await fetch(`${base}${ADMIN_CLUSTER_PATH}`, {
    headers: { authorization: `Bearer ${adminToken}`, accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`${base}${ADMIN_CLUSTER_PATH} answered HTTP ${response.status}`);
  const body: unknown = await response.json().catch(() => undefined);
  if (!Value.Check(ClusterRegistrySchema, body)) {
    const problems = [...Value.Errors(ClusterRegistrySchema, body)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new Error(`${base}${ADMIN_CLUSTER_PATH} does not match audit/sources/clusterRegistry.ts: ${problems.join('; ')}`);
  }
  return body;
}
