// The one place HTTP errors become responses. Validation failures and deliberate 4xx errors keep
// their message; anything else is logged and answered with a generic 500.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Fastify error handler for every route. */
export function httpErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.validation) {
    void reply.code(400).send({ error: { code: 'invalid_request', message: error.message } });
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    void reply.code(status).send({ error: { code: error.code ?? 'bad_request', message: error.message } });
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.code(500).send({ error: { code: 'internal', message: 'internal server error' } });
}
