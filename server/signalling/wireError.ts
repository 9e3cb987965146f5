// The one place where anything thrown while handling a request becomes what the client sees.
// Deliberate errors keep their code and message; everything else is logged in full and reaches the
// client as a generic "internal" error, so stack traces and paths never leave the server.
import type { FastifyBaseLogger } from 'fastify';
import { SfuError, type SfuErrorReason } from '../../sfu/index.js';
import type { ErrorCode, WireError } from '../../protocol/index.js';
import { SignallingError } from './SignallingError.js';
import { AuthError } from '../auth/index.js';
import { ClusterUnavailable, RoomElsewhere } from '../cluster/ClusterError.js';

const SFU_REASON_TO_CODE: Record<SfuErrorReason, ErrorCode> = {
  not_found: 'not_found',
  rejected: 'media_rejected',
  cannot_consume: 'media_rejected',
  no_recv_transport: 'not_ready',
  unavailable: 'unavailable',
  at_capacity: 'at_capacity',
  closed: 'not_joined',
};

/** Map any error from a handler to a wire error, logging what the client is not told. */
export function toWireError(error: unknown, log: FastifyBaseLogger, method: string): WireError {
  if (error instanceof SignallingError) return { code: error.code, message: error.message };
  if (error instanceof AuthError) {
    return { code: error.code === 'forbidden' ? 'forbidden' : 'unauthorized', message: error.message };
  }
  if (error instanceof RoomElsewhere) return { code: 'moved', message: error.message, redirect: error.url };
  if (error instanceof ClusterUnavailable) return { code: 'unavailable', message: error.message };
  if (error instanceof SfuError) {
    log.debug({ err: error, method }, 'media request refused');
    return { code: SFU_REASON_TO_CODE[error.reason], message: error.message };
  }
  log.error({ err: error, method }, 'signalling handler failed');
  return { code: 'internal', message: 'internal server error' };
}
