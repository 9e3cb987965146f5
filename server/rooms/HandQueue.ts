// Raised hands in the order they went up: the instructor takes questions first come, first served.

/** Ordered set of participants with a raised hand. */
export class HandQueue {
  readonly #order: string[] = [];

  /** Raise (appended at the end) or lower; returns whether anything changed. */
  set(peerId: string, raised: boolean): boolean {
    const index = this.#order.indexOf(peerId);
    if (raised && index === -1) {
      this.#order.push(peerId);
      return true;
    }
    if (!raised && index !== -1) {
      this.#order.splice(index, 1);
      return true;
    }
    return false;
  }

  /** Peer ids, first raised first. */
  list(): string[] {
    return [...this.#order];
  }
}
