// The one shape of every HTTP error Lectern sends, whatever produced it: a route's own refusal,
// schema validation, a body the parser could not read, an unknown path, or a server fault.
import { Type, type Static } from '@sinclair/typebox';

/** `{ error: { code, message } }`: code for programs, message for people. */
export const HttpErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false }) },
  { additionalProperties: false },
);
export type HttpErrorBody = Static<typeof HttpErrorBody>;

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** The code for a status when the error carries none of Lectern's own. */
export function httpErrorCode(status: number): string {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

/** Build the body. */
export function httpErrorBody(code: string, message: string): HttpErrorBody {
  return { error: { code, message } };
}
