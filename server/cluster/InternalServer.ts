// The control channel's listener: HTTP on the node's private address only (never the public
// listener), every request signed with the cluster secret (nodeSignature.ts) and its body validated
// against the method's schema (edgeProtocol.ts), strictly: unknown keys and wrong types are a 400
// naming the field, a missing or wrong signature a 401 naming the header, checked first. A signed
// request is accepted once: a replay of it (its nonce seen) is a 401 naming the nonce header, and so
// is any request timestamped before this listener started (NonceLedger says why that is enough).
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { httpErrorHandler, notFoundHandler } from '../httpErrors.js';
import { EdgeMethods, edgePath, type EdgeBody, type EdgeMethodName, type EdgeReply } from './edgeProtocol.js';
import { NONCE_HEADER, SIGNATURE_WINDOW_MS, TIME_HEADER, verifySignature } from './nodeSignature.js';
import { DEFAULT_NONCE_LIMITS, NonceLedger, type NonceLedgerLimits } from './NonceLedger.js';

/** A refusal with its HTTP status and code (mapped to the error body by httpErrorHandler). */
export class RpcRefusal extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** One handler per method; `from` is the (authenticated) calling node. */
export type EdgeHandlers = { [M in EdgeMethodName]: (from: string, body: EdgeBody<M>) => Promise<EdgeReply<M>> };

declare module 'fastify' {
  interface FastifyRequest {
    lecternRawBody?: string;
    /** The calling node, once its signature is verified. */
    lecternFrom?: string;
  }
}

/** The internal RPC listener of one node. */
export class InternalServer {
  readonly #app: FastifyInstance;
  /** http://address:port it listens on. */
  readonly url: string;

  /**
   * Listen on `host:port` (the private address) as node `nodeId` (requests must be signed for it).
   * `nonceLimits`: live nonces a sender, and all together, may hold (DEFAULT_NONCE_LIMITS).
   */
  static async start(options: {
    host: string;
    port: number;
    nodeId: string;
    secret: string;
    handlers: EdgeHandlers;
    logger: FastifyInstance['log'];
    nonceLimits?: Omit<NonceLedgerLimits, 'windowMs'>;
  }): Promise<InternalServer> {
    // Taken before listening: whatever was sent to a former process of this node is older.
    const startedAt = Date.now();
    const ledger = new NonceLedger({ windowMs: SIGNATURE_WINDOW_MS, ...(options.nonceLimits ?? DEFAULT_NONCE_LIMITS) });
    // A flood is logged once a second at most: the log must not become the next thing it fills.
    let floodLoggedAt = 0;
    const app = Fastify({
      loggerInstance: options.logger,
      bodyLimit: 256 * 1024,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
    });
    app.setErrorHandler(httpErrorHandler);
    app.setNotFoundHandler(notFoundHandler);
    // The signature covers the exact bytes sent: keep them next to the parsed body.
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      request.lecternRawBody = body as string;
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new RpcRefusal(400, 'invalid_request', 'body: not JSON'), undefined);
      }
    });
    // Before validation: a request not from the cluster learns nothing about the schema.
    app.addHook('preValidation', async (request: FastifyRequest) => {
      const path = request.url.split('?')[0] ?? '';
      const verified = verifySignature(options.secret, options.nodeId, path, request.headers, request.lecternRawBody ?? '');
      if (!verified.ok) throw new RpcRefusal(401, 'unauthorized', verified.problem);
      const { from, time, nonce } = verified.fields;
      if (time < startedAt) throw new RpcRefusal(401, 'unauthorized', `${TIME_HEADER}: before this node started (a request sent to it before a restart is not accepted again)`);
      const refusal = ledger.admit(from, nonce, time);
      if (refusal === 'replayed') throw new RpcRefusal(401, 'unauthorized', `${NONCE_HEADER}: seen before (a replayed request is refused)`);
      if (refusal === 'flood') {
        if (Date.now() - floodLoggedAt > 1000) {
          floodLoggedAt = Date.now();
          request.log.warn({ from, nonces: ledger.size }, 'control channel flood refused');
        }
        throw new RpcRefusal(429, 'rate_limited', `${NONCE_HEADER}: too many requests from node ${from} in the last ${SIGNATURE_WINDOW_MS / 1000} s`);
      }
      request.lecternFrom = from;
    });
    for (const name of Object.keys(EdgeMethods) as EdgeMethodName[]) {
      const { body, reply } = EdgeMethods[name];
      const handler = options.handlers[name] as (from: string, body: unknown) => Promise<unknown>;
      app.post(edgePath(name), { schema: { body, response: { 200: reply } } }, async (request) => handler(request.lecternFrom!, request.body));
    }
    await app.listen({ host: options.host, port: options.port });
    const address = app.server.address() as AddressInfo;
    return new InternalServer(app, `http://${address.address}:${address.port}`);
  }

  private constructor(app: FastifyInstance, url: string) {
    this.#app = app;
    this.url = url;
  }

  /** Stop listening. */
  async close(): Promise<void> {
    await this.#app.close();
  }
}
