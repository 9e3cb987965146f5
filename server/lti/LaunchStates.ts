// The login initiation's state, bound to the browser: a signed cookie named after the state itself,
// so two launches in two tabs do not overwrite each other. The cookie is what proves that the
// browser posting the id_token is the one that started the login (the LTI/OIDC CSRF defence).
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

/** The state cookie's name is this prefix followed by the state. */
export const STATE_COOKIE_PREFIX = 'lectern_lti_';
/** A launch must come back from the LMS within this time. */
export const STATE_TTL_SECONDS = 600;

const AUDIENCE = 'lectern:lti-state';
const ISSUER = 'lectern';

/** What the launch needs from the login initiation that started it. */
export interface PendingLaunch {
  state: string;
  nonce: string;
  issuer: string;
  clientId: string;
}

/** Makes and reads state cookies. */
export class LaunchStates {
  readonly #key: Uint8Array;

  /** `key`: 32 bytes derived for state cookies (ToolKeys.derive('state-cookie')). */
  constructor(key: Uint8Array) {
    this.#key = key;
  }

  /** A fresh state and nonce for `issuer`/`clientId`, and the cookie value that carries them. */
  async begin(issuer: string, clientId: string): Promise<{ pending: PendingLaunch; sealed: string }> {
    const pending: PendingLaunch = { state: token(), nonce: token(), issuer, clientId };
    const sealed = await new SignJWT({ ...pending })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + STATE_TTL_SECONDS)
      .sign(this.#key);
    return { pending, sealed };
  }

  /** The pending launch in a cookie, if it is genuine, unexpired and for `state`; else undefined. */
  async open(sealed: string | undefined, state: string): Promise<PendingLaunch | undefined> {
    if (!sealed) return undefined;
    try {
      const { payload } = await jwtVerify(sealed, this.#key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE, requiredClaims: ['exp'] });
      const { state: s, nonce, issuer, clientId } = payload;
      if (s !== state || typeof nonce !== 'string' || typeof issuer !== 'string' || typeof clientId !== 'string') return undefined;
      return { state: s, nonce, issuer, clientId };
    } catch {
      return undefined;
    }
  }
}

/** The cookie name for `state`. States are base64url, which is a valid cookie-name alphabet. */
export function stateCookieName(state: string): string {
  return `${STATE_COOKIE_PREFIX}${state}`;
}

function token(): string {
  return randomBytes(24).toString('base64url');
}
