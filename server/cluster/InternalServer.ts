// The control channel's listener: HTTP on the node's private address only (never the public
// listener), every request signed with the cluster secret (nodeSignature.ts) and its body validated
// against the method's schema (edgeProtocol.ts), strictly: unknown keys and wrong types are a 400
// naming the field, a missing or wrong signature a 401 naming the header, checked first.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { httpErrorHandler, notFoundHandler } from '../httpErrors.js';
import { EdgeMethods, edgePath, type EdgeBody, type EdgeMethodName, type EdgeReply } from './edgeProtocol.js';
import { NODE_HEADER, signatureProblem } from './nodeSignature.js';

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
  }
}

/** The internal RPC listener of one node. */
export class InternalServer {
  readonly #app: FastifyInstance;
  /** http://address:port it listens on. */
  readonly url: string;

  /** Listen on `host:port` (the private address). */
  static async start(options: { host: string; port: number; secret: string; handlers: EdgeHandlers; logger: FastifyInstance['log'] }): Promise<InternalServer> {
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
      const problem = signatureProblem(options.secret, path, request.headers, request.lecternRawBody ?? '');
      if (problem) throw new RpcRefusal(401, 'unauthorized', problem);
    });
    for (const name of Object.keys(EdgeMethods) as EdgeMethodName[]) {
      const { body, reply } = EdgeMethods[name];
      const handler = options.handlers[name] as (from: string, body: unknown) => Promise<unknown>;
      app.post(edgePath(name), { schema: { body, response: { 200: reply } } }, async (request) => handler(String(request.headers[NODE_HEADER]), request.body));
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
