// Room chat, in memory only: late joiners see the last messages; nothing is written to disk and
// everything is gone when the room closes (Galène's rule, and what a data-protection officer wants).
import type { ChatMessage } from '../../protocol/index.js';

/** The last `capacity` chat messages of a room. */
export class ChatLog {
  readonly #capacity: number;
  readonly #messages: ChatMessage[] = [];
  #nextId = 1;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Store a message and return it with its id and server time. */
  add(from: { id: string; displayName: string }, text: string, now = Date.now()): ChatMessage {
    const message: ChatMessage = { id: this.#nextId++, from, text, time: now };
    this.#messages.push(message);
    if (this.#messages.length > this.#capacity) this.#messages.shift();
    return message;
  }

  /** Messages kept, oldest first. */
  history(): ChatMessage[] {
    return [...this.#messages];
  }
}
