// The contract between the audit log and replies: a request is acknowledged only after every audit
// entry it caused is on disk. An acknowledged join whose entry a crash then lost (six such joins in
// 52 `kill -9`s before this) would be an action the log cannot account for.
//
// Rooms record through the ClassRecorder without knowing which request they serve; the request is
// found through AsyncLocalStorage, which follows the handler's await chain. The log's group commit
// keeps the wait short: entries of concurrent requests share one fdatasync.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The audit entries one request caused, to be waited on before its reply. */
export class Acknowledgement {
  readonly #entries: Promise<unknown>[] = [];

  /** Entries appended while `work` runs count towards this acknowledgement. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return storage.run(this, work);
  }

  /** Resolves when every entry is durable; rejects if any could not be written. */
  async durable(): Promise<void> {
    await Promise.all(this.#entries);
  }

  /** Count an append towards the request being handled now, if any (lifecycle events have none). */
  static require(append: Promise<unknown>): void {
    const acknowledgement = storage.getStore();
    if (acknowledgement) acknowledgement.#entries.push(append);
  }
}

const storage = new AsyncLocalStorage<Acknowledgement>();
