// The one place HTTP errors become responses, all with the body of protocol/httpError.ts.
// Validation failures name the field; deliberate 4xx errors keep their message; Fastify's own
// errors (parser, body size, media type) keep their status but not their internal FST_ codes;
// anything else is logged and answered with a generic 500.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { httpErrorBody, httpErrorCode } from '../protocol/index.js';

// Codes Lectern's own errors carry (AuthError, route errors): lower-case words, never FST_...
const OWN_CODE = /^[a-z][a-z_]*$/;

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** "body.ttl: unknown field" — where the problem is, then what it is. */
export function describeValidation(context: string | undefined, issue: ValidationIssue): string {
  const path = [context ?? 'request', ...issue.instancePath.split('/').filter(Boolean)].join('.');
  if (issue.keyword === 'additionalProperties') return `${path}.${String(issue.params.additionalProperty)}: unknown field`;
  if (issue.keyword === 'required') return `${path}.${String(issue.params.missingProperty)}: required`;
  return `${path}: ${issue.message ?? 'invalid'}`;
}

/** Fastify error handler for every route. */
export function httpErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.validation) {
    const first = error.validation[0] as ValidationIssue | undefined;
    const message = first ? describeValidation(error.validationContext, first) : error.message;
    void reply.code(400).send(httpErrorBody('invalid_request', message));
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = error.code && OWN_CODE.test(error.code) ? error.code : httpErrorCode(status);
    void reply.code(status).send(httpErrorBody(code, error.message));
    return;
  }
  request.log.error({ err: error }, 'request failed');
  void reply.code(500).send(httpErrorBody('internal', 'internal server error'));
}

/** Unknown paths get the same body as every other error. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send(httpErrorBody('not_found', `no such page: ${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}`));
}
