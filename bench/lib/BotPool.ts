// The seminar's bots, spread over worker threads (botThread.ts).
import { BenchThread } from './thread.js';
import type { BotDetail, BotReport, BotRequest, BotSpec } from './botThread.js';

export class BotPool {
  readonly #threads: BenchThread<BotRequest>[];
  /** Bots dealt so far: the next join continues the round-robin where the last one stopped. */
  #dealt = 0;

  /** Start `threads` bot threads (no bots yet). */
  static async start(threads: number): Promise<BotPool> {
    const started = await Promise.all(Array.from({ length: threads }, () => BenchThread.start<BotRequest>(new URL('./botThread.ts', import.meta.url), 'bots')));
    return new BotPool(started);
  }

  private constructor(threads: BenchThread<BotRequest>[]) {
    this.#threads = threads;
  }

  /**
   * Join the named bots to `room`, dealt round-robin over the threads; the threads join theirs in
   * parallel. Returns why any bot could not join, and which joined only at their second try.
   */
  async join(
    wsUrl: string,
    room: string,
    names: string[],
    clip: { width: number; height: number; fps: number; kbps: number },
  ): Promise<{ failures: string[]; retried: string[] }> {
    return this.joinBots(wsUrl, room, names.map((name) => ({ name })), clip);
  }

  /** `join` with each bot's sign-in and what it sends. */
  async joinBots(
    wsUrl: string,
    room: string,
    bots: BotSpec[],
    clip: { width: number; height: number; fps: number; kbps: number },
  ): Promise<{ failures: string[]; retried: string[] }> {
    const dealt = this.#threads.map((_, t) => bots.filter((__, i) => (i + this.#dealt) % this.#threads.length === t));
    this.#dealt += bots.length;
    const results = await Promise.all(
      this.#threads.map((thread, t) => thread.call<{ failures: string[]; retried: string[] }>({ op: 'join', wsUrl, room, bots: dealt[t]!, clip })),
    );
    return { failures: results.flatMap((r) => r.failures), retried: results.flatMap((r) => r.retried) };
  }

  /** Every bot's state in full (sends, receive transport id, per-consumer counts). */
  async details(): Promise<BotDetail[]> {
    return (await Promise.all(this.#threads.map((t) => t.call<BotDetail[]>({ op: 'details' })))).flat();
  }

  /** Send each named bot's gallery page (`setView`); returns the refusals. */
  async setView(views: Record<string, string[]>): Promise<string[]> {
    return (await Promise.all(this.#threads.map((t) => t.call<string[]>({ op: 'setView', views })))).flat();
  }

  /** Every bot's counts since the last reset. */
  async counts(): Promise<BotReport[]> {
    return (await Promise.all(this.#threads.map((t) => t.call<BotReport[]>({ op: 'counts' })))).flat();
  }

  async reset(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.call({ op: 'reset' })));
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.call({ op: 'close' }).catch(() => undefined)));
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }
}
