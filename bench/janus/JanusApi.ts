// Just enough of the Janus HTTP API for streaming viewers: a session, handles attached to the
// streaming plugin, "watch" (Janus offers) and "start" (the viewer answers). Events arrive by
// long-polling the session; they are matched to requests by transaction id.
import { randomUUID } from 'node:crypto';

type JanusMessage = {
  janus: string;
  transaction?: string;
  sender?: number;
  data?: { id: number };
  plugindata?: { data: Record<string, unknown> };
  jsep?: { type: string; sdp: string };
  error?: { code: number; reason: string };
};

/** One Janus session on the HTTP transport. */
export class JanusSession {
  readonly #url: string;
  readonly #waiting = new Map<string, (message: JanusMessage) => void>();
  #polling = true;

  /** Create the session and start long-polling its events. */
  static async create(baseUrl: string): Promise<JanusSession> {
    const created = await post(baseUrl, { janus: 'create' });
    const session = new JanusSession(`${baseUrl}/${created.data!.id}`);
    void session.#poll();
    return session;
  }

  private constructor(url: string) {
    this.#url = url;
  }

  async #poll(): Promise<void> {
    while (this.#polling) {
      try {
        const response = await fetch(`${this.#url}?maxev=50`);
        const body = (await response.json()) as JanusMessage | JanusMessage[];
        for (const message of Array.isArray(body) ? body : [body]) {
          const waiter = message.transaction ? this.#waiting.get(message.transaction) : undefined;
          if (waiter && message.janus !== 'ack') {
            this.#waiting.delete(message.transaction!);
            waiter(message);
          }
        }
      } catch {
        if (this.#polling) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Attach a streaming-plugin handle; returns its id. */
  async attachStreaming(): Promise<number> {
    const reply = await post(this.#url, { janus: 'attach', plugin: 'janus.plugin.streaming' });
    return reply.data!.id;
  }

  /** Ask to watch a mountpoint; resolves with Janus's SDP offer. */
  async watch(handle: number, mountpoint: number): Promise<string> {
    const event = await this.#asyncMessage(handle, { request: 'watch', id: mountpoint });
    if (!event.jsep) throw new Error(`janus watch: no offer (${JSON.stringify(event.plugindata ?? event.error)})`);
    return event.jsep.sdp;
  }

  /** Answer and start the stream. */
  async start(handle: number, answer: string): Promise<void> {
    const event = await this.#asyncMessage(handle, { request: 'start' }, { type: 'answer', sdp: answer });
    const data = event.plugindata?.data;
    if (!data || data.error) throw new Error(`janus start failed: ${JSON.stringify(data ?? event.error)}`);
  }

  async #asyncMessage(handle: number, body: Record<string, unknown>, jsep?: { type: string; sdp: string }): Promise<JanusMessage> {
    const transaction = randomUUID();
    const event = new Promise<JanusMessage>((resolve) => this.#waiting.set(transaction, resolve));
    const ack = await post(`${this.#url}/${handle}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) }, transaction);
    if (ack.janus === 'error') {
      this.#waiting.delete(transaction);
      throw new Error(`janus: ${ack.error?.reason}`);
    }
    return ack.janus === 'event' ? ack : event;
  }

  /** Stop polling (the server is closed separately). */
  close(): void {
    this.#polling = false;
  }
}

async function post(url: string, message: Record<string, unknown>, transaction = randomUUID()): Promise<JanusMessage> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...message, transaction }),
  });
  const reply = (await response.json()) as JanusMessage;
  if (reply.janus === 'error') throw new Error(`janus ${String(message.janus)}: ${reply.error?.reason}`);
  return reply;
}
