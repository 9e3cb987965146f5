// GET /moved/<room>: where a page goes when its join was answered `moved` (the class is held by
// another node of the cluster). The page only ever navigates within its own origin; this node
// sends the browser on with an HTTP redirect to the home node it reads from the cluster registry,
// whose every node was refused unless placed in the country, and which the audit lists. The
// fragment (the room link's token, the name) is not part of the request and the browser carries it
// across the redirect.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { RoomName } from '../../protocol/index.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import { onNode } from './nodeRedirect.js';

const Params = Type.Object({ room: RoomName }, { additionalProperties: false });

/** Register GET /moved/:room. */
export async function movedRoom(app: FastifyInstance, options: { cluster: ClusterNode }): Promise<void> {
  const { cluster } = options;
  app.get<{ Params: { room: string } }>('/moved/:room', { schema: { params: Params } }, async (request, reply) => {
    const path = `/r/${encodeURIComponent(request.params.room)}`;
    void reply.header('cache-control', 'no-store');
    // No other live home (or not a cluster): the class opens here; the page's join routes again.
    const home = await cluster.homeElsewhere(request.params.room).catch(() => undefined);
    return reply.redirect(home ? onNode(home, path) : path, 302);
  });
}
