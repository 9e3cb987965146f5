// GET /ws: the signalling WebSocket. Each connection becomes a Session; dead connections are found
// by ping/pong and dropped so their media does not linger.
//
// Memory per idle connection matters here (10k students in one lecture), so a connection keeps
// nothing of its upgrade request: @fastify/websocket would otherwise keep the fastify Request and
// Reply, and through them the raw IncomingMessage and ServerResponse (~3 KiB per connection), for
// as long as the connection lives. See releaseUpgrade().
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { Session, type SessionDeps, type SignInHeaders } from '../signalling/Session.js';
import { allowedWebSocketOrigin } from './wsOrigin.js';
import { AddressLimiter } from '../signalling/AddressLimiter.js';
import { httpErrorBody } from '../../protocol/index.js';

const HEARTBEAT_MS = 25_000;

/** Register the signalling endpoint. */
export async function signalling(app: FastifyInstance, deps: Omit<SessionDeps, 'log'>): Promise<void> {
  const alive = new WeakSet<WebSocket>();
  // The WebSocket server's own set of open connections (ws removes closed ones); /ws is its only
  // route. A set of our own would cost every connection an entry and a 'close' listener more.
  const sockets = app.websocketServer.clients;
  if (!sockets) throw new Error('signalling needs the WebSocket server to track its clients (ws clientTracking)');
  // One listener for every socket (EventEmitter calls it with `this` = the socket), not a closure each.
  function onPong(this: WebSocket): void {
    alive.add(this);
  }

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

  // The app logger, not a per-request child: a child logger per idle connection costs memory that
  // 10k students in one lecture would notice; session log lines carry the peer id instead. One
  // object for every session: a spread per connection would also give each its own hidden class.
  const sessionDeps: SessionDeps = { ...deps, log: app.log };
  // The WebSocket handler is given the request but not the reply; the preHandler passes the raw
  // response on so the handler can release it (a WeakMap: a failed upgrade leaves nothing behind).
  const responses = new WeakMap<FastifyRequest, ServerResponse>();
  const connections = new AddressLimiter(deps.config.signalling.maxConnectionsPerAddressPerMinute);

  // No security headers on the upgrade: they are never sent (the connection is handed to the
  // WebSocket), and the response is released once the connection is open (releaseUpgrade).
  app.get(
    '/ws',
    {
      websocket: true,
      helmet: false,
      // Before the upgrade: a page from another origin gets a plain 403, never a socket.
      onRequest: (request, reply, done) => {
        if (!allowedWebSocketOrigin(request.headers.origin, request.headers.host, deps.config.http.publicUrl)) {
          request.log.warn({ origin: request.headers.origin }, 'signalling refused: page from another origin');
          void reply.code(403).send(httpErrorBody('forbidden', 'this page may not open the Lectern signalling connection'));
          return;
        }
        if (!connections.take(request.ip)) {
          void reply.code(429).header('retry-after', '5').send(httpErrorBody('rate_limited', 'too many new connections from your address; try again in a few seconds'));
          return;
        }
        done();
      },
      preHandler: (request, reply, done) => {
        responses.set(request, reply.raw);
        done();
      },
    },
    (socket, request) => {
      // Copy the little a session needs from the upgrade request (the sign-in cookie; the request id
      // for its log lines), then let go.
      const signIn: SignInHeaders = { headers: { cookie: request.headers.cookie } };
      releaseUpgrade(socket, responses.get(request));
      responses.delete(request);
      alive.add(socket);
      socket.on('pong', onPong);
      new Session(socket, signIn, request.id, request.ip, sessionDeps);
    },
  );
}

/**
 * Stop an open WebSocket from keeping its upgrade request alive. Two things hold it, both found in
 * heap snapshots of the signalling bench (bench/scenarios/signalling.ts):
 * - the net.Socket still points at the upgrade's ServerResponse (`assignSocket` in
 *   @fastify/websocket's upgrade listener), which points at the IncomingMessage; the response is
 *   never written (ws writes the 101 on the socket itself), so it is detached;
 * - @fastify/websocket's 'error' listener on the WebSocket, added just before the route handler is
 *   called, is a closure over the fastify Request and Reply (for its errorHandler). It is removed;
 *   Session's own listener does what the plugin's default errorHandler did (log, terminate), and
 *   app.ts configures no other errorHandler. tests/server/signallingMemory.test.ts pins both.
 */
function releaseUpgrade(socket: WebSocket, response: ServerResponse | undefined): void {
  if (response?.socket) response.detachSocket(response.socket);
  socket.removeAllListeners('error');
}
