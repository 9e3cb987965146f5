// Short-lived TURN credentials in coturn's TURN REST API form (coturn `use-auth-secret`, after
// draft-uberti-behave-turn-rest): the username is `<unix expiry>:<peer id>` and the password is
// base64(HMAC-SHA1(static-auth-secret, username)). coturn recomputes the HMAC from the username and
// refuses one whose expiry has passed, so the relay needs no user database and no call back to us.
import { createHmac } from 'node:crypto';

/** One participant's TURN credential. */
export interface TurnCredential {
  /** `<unix expiry seconds>:<peer id>`: coturn reads the expiry from it. */
  username: string;
  /** base64 HMAC-SHA1 of the username under the shared secret. */
  credential: string;
  /** When coturn stops accepting it, milliseconds since the epoch. */
  expiresAt: number;
}

// coturn splits the username at its `rest-api-separator` (':' by default); a second one would make
// coturn read the wrong field as the expiry.
const SEPARATOR = ':';

/** Signs TURN credentials with the secret coturn shares (its `static-auth-secret`). */
export class TurnCredentials {
  readonly #secret: string;
  readonly #ttlSeconds: number;

  /** `secret` is coturn's static-auth-secret; each credential is valid for `ttlSeconds`. */
  constructor(secret: string, ttlSeconds: number) {
    if (secret.length === 0) throw new Error('a TURN secret cannot be empty');
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error(`a TURN credential lifetime must be a positive number of seconds, not ${ttlSeconds}`);
    this.#secret = secret;
    this.#ttlSeconds = ttlSeconds;
  }

  /** How long each credential lives, in seconds. */
  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  /** A credential for `peerId`, valid from `now` (ms since the epoch) for the configured lifetime. */
  mint(peerId: string, now: number = Date.now()): TurnCredential {
    const expiry = Math.floor(now / 1000) + this.#ttlSeconds;
    return this.mintExpiring(peerId, expiry);
  }

  /** A credential for `peerId` that coturn accepts until `expiry` (unix seconds). */
  mintExpiring(peerId: string, expiry: number): TurnCredential {
    if (peerId.length === 0 || peerId.includes(SEPARATOR)) throw new Error(`a TURN user name part cannot be empty or contain "${SEPARATOR}"`);
    if (!Number.isInteger(expiry) || expiry < 0) throw new Error(`a TURN credential expiry must be whole unix seconds, not ${expiry}`);
    const username = `${expiry}${SEPARATOR}${peerId}`;
    const credential = createHmac('sha1', this.#secret).update(username).digest('base64');
    return { username, credential, expiresAt: expiry * 1000 };
  }
}
