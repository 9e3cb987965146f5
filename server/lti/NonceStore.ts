// Single-use nonces. A nonce is remembered until the id_token that carried it could no longer be
// accepted anyway (its maximum age plus clock tolerance), so memory holds only recent launches.
// In memory: a second Lectern process would need a shared store (the room directory's seam).

/** Remembers nonces seen in valid launches. */
export class NonceStore {
  readonly #seen = new Map<string, number>();
  readonly #keepMs: number;

  /** `keepSeconds`: how long a used nonce must stay refused. */
  constructor(keepSeconds: number) {
    this.#keepMs = keepSeconds * 1000;
  }

  /** Mark `nonce` used; false when it was used before (a replay). */
  use(nonce: string, now = Date.now()): boolean {
    this.#sweep(now);
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, now + this.#keepMs);
    return true;
  }

  /** How many nonces are remembered. */
  get size(): number {
    return this.#seen.size;
  }

  #sweep(now: number): void {
    // Insertion order is expiry order (one fixed keep time), so stop at the first live entry.
    for (const [nonce, expires] of this.#seen) {
      if (expires > now) break;
      this.#seen.delete(nonce);
    }
  }
}
