// An error a handler raises on purpose, carrying the wire code the client will see.
import type { ErrorCode } from '../../protocol/index.js';

/** A request refused for a reason the client should know. */
export class SignallingError extends Error {
  /** The wire error code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'SignallingError';
    this.code = code;
  }
}
