// GET /ws: the signalling WebSocket. Each connection becomes a Session; dead connections are found
// by ping/pong and dropped so their media does not linger.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { Session, type SessionDeps } from '../signalling/Session.js';

const HEARTBEAT_MS = 25_000;

/** Register the signalling endpoint. */
export async function signalling(app: FastifyInstance, deps: Omit<SessionDeps, 'log'>): Promise<void> {
  const alive = new WeakSet<WebSocket>();
  const sockets = new Set<WebSocket>();

  const heartbeat = setInterval(() => {
    for (const socket of sockets) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  app.addHook('onClose', async () => clearInterval(heartbeat));

  // No security headers on the upgrade: they are never sent (the connection is handed to the
  // WebSocket), yet the unsent response holding them lives as long as the connection does.
  app.get('/ws', { websocket: true, helmet: false }, (socket, request) => {
    sockets.add(socket);
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.on('close', () => sockets.delete(socket));
    // The app logger, not a per-request child: a child logger per idle connection costs memory that
    // 10k students in one lecture would notice; session log lines carry the peer id instead.
    new Session(socket, request, { ...deps, log: app.log });
  });
}
