// The one error type of sign-in. Each code carries its HTTP status so server/httpErrors.ts (and the
// signalling error mapping) can pass it through without knowing about auth.

/** Why someone was not let in. */
export type AuthErrorCode = 'unauthorized' | 'forbidden' | 'expired' | 'wrong_room';

const STATUS: Record<AuthErrorCode, number> = {
  unauthorized: 401,
  expired: 401,
  forbidden: 403,
  wrong_room: 403,
};

/** A refused credential. The message is safe to show the client; details go to the log, not here. */
export class AuthError extends Error {
  /** Machine-readable reason, sent to the client as error.code. */
  readonly code: AuthErrorCode;
  /** HTTP status for this code (401 or 403). */
  readonly statusCode: number;

  constructor(code: AuthErrorCode, message: string) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
    this.statusCode = STATUS[code];
  }
}
