// An EventEmitter typed by an event map. A listener that throws is logged, not propagated: one
// broken listener must not stop a close() cascade or the other listeners (mediasoup's EnhancedEventEmitter).
import { EventEmitter } from 'node:events';

export type EventMap = Record<string, unknown[]>;

/** EventEmitter whose event names and argument lists come from `E`. */
export class TypedEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(Infinity);
  }

  /** Listen to an event. */
  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Listen to one occurrence of an event. */
  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Stop listening. */
  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Call every listener; returns whether there were any. Listener errors are reported, not thrown. */
  emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const listeners = this.#emitter.listeners(event);
    for (const listener of listeners) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        process.emitWarning(`listener for "${event}" threw: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
    return listeners.length > 0;
  }

  /** Number of listeners of an event. */
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#emitter.listenerCount(event);
  }
}
