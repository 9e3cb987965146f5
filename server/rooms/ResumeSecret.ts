// The bearer secret that lets a new connection take back a participant whose connection dropped.
// Only a hash is kept: a heap dump or a log line of the server cannot be replayed as a resume.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// 256 bits: guessing one is out of reach, so the secret alone is enough to resume.
const SECRET_BYTES = 32;

const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** One participant's current resume secret (hash only). */
export class ResumeSecret {
  #hash: Buffer | undefined;

  /** A fresh secret for the client; any earlier one stops working. */
  issue(): string {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    this.#hash = digest(secret);
    return secret;
  }

  /** Whether `secret` is the current one; constant time in its content. */
  matches(secret: string): boolean {
    if (!this.#hash) return false;
    return timingSafeEqual(digest(secret), this.#hash);
  }
}
