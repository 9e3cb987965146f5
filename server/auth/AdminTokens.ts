// Admin bearer tokens. Config holds only their SHA-256, so a leaked config file grants nothing; the
// presented token is hashed and compared with every configured hash in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Checks `Authorization: Bearer <token>` against auth.adminTokens. */
export class AdminTokens {
  readonly #hashes: Buffer[];

  /** `hashes` are the hex SHA-256 digests from auth.adminTokens. */
  constructor(hashes: readonly string[]) {
    this.#hashes = hashes.map((hex) => Buffer.from(hex, 'hex'));
  }

  /** Whether any admin token is configured (none means the admin API is closed). */
  get configured(): boolean {
    return this.#hashes.length > 0;
  }

  /** True when `token` is one of the configured admin tokens. */
  matches(token: string | undefined): boolean {
    if (!token) return false;
    const presented = createHash('sha256').update(token, 'utf8').digest();
    let found = false;
    // No early exit: the time taken does not depend on which configured token matched.
    for (const hash of this.#hashes) found = timingSafeEqual(presented, hash) || found;
    return found;
  }

  /** The token in an Authorization header, if it is a Bearer token. */
  static fromHeader(header: string | undefined): string | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match?.[1];
  }
}
