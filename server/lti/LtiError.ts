// The one error type of LTI launches. Each code carries its HTTP status and a sentence for the person
// in front of the LMS page; ltiPage.ts renders it. Details for the operator go to the log, not here.

/** Why a login initiation or a launch was refused. */
export type LtiErrorCode =
  | 'invalid_request' // a parameter is missing or of the wrong type
  | 'unknown_platform' // no registration for this issuer / client id
  | 'unknown_deployment' // the deployment id is not registered for the platform
  | 'state_missing' // the state cookie did not come back (blocked, expired, another browser)
  | 'invalid_token' // signature, issuer, audience, times or required claims are wrong
  | 'replayed' // the id_token's nonce was used before or belongs to another login
  | 'platform_error' // the LMS answered the authentication request with an error
  | 'forbidden' // a valid launch whose roles Lectern is configured to refuse
  | 'platform_unreachable'; // the LMS's key set could not be fetched

const STATUS: Record<LtiErrorCode, number> = {
  invalid_request: 400,
  unknown_platform: 400,
  unknown_deployment: 403,
  state_missing: 400,
  invalid_token: 401,
  replayed: 401,
  platform_error: 400,
  forbidden: 403,
  platform_unreachable: 502,
};

/** A refused LTI request. `message` is safe to show; it never contains token contents. */
export class LtiError extends Error {
  /** Machine-readable reason (also on the page, for tests and support). */
  readonly code: LtiErrorCode;
  /** HTTP status for this code. */
  readonly statusCode: number;

  constructor(code: LtiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LtiError';
    this.code = code;
    this.statusCode = STATUS[code];
  }
}
