// SIGTERM on a cluster node: take no new rooms, release this node's rooms so the next join opens
// each on a live node, ask every participant to join again (they land there, or are redirected),
// and keep answering (with redirects) for `drainSeconds` before the caller closes the server.
import type { FastifyInstance } from 'fastify';
import type { NotificationFrame } from '../../protocol/index.js';
import type { ClusterNode } from './ClusterNode.js';

/** Drain this node; resolves when the participants have had `drainSeconds` to move. */
export async function drainNode(app: FastifyInstance, cluster: ClusterNode, drainSeconds: number): Promise<void> {
  if (!cluster.clustered) return;
  await cluster.drain();
  const frame: NotificationFrame = { kind: 'notification', method: 'serverDraining', data: { reason: 'this server is shutting down; the class continues on another one' } };
  const text = JSON.stringify(frame);
  let told = 0;
  for (const socket of app.websocketServer.clients) {
    socket.send(text);
    told++;
  }
  app.log.info({ participants: told, drainSeconds }, 'draining: participants asked to join again elsewhere');
  // Done early once everyone has gone.
  const deadline = Date.now() + drainSeconds * 1000;
  while (Date.now() < deadline && app.websocketServer.clients.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
}
