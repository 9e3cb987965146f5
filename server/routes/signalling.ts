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

  app.get('/ws', { websocket: true }, (socket, request) => {
    sockets.add(socket);
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    socket.on('close', () => sockets.delete(socket));
    new Session(socket, request, { ...deps, log: request.log });
  });
}
