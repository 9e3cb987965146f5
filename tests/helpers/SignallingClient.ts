// A signalling client for server tests: speaks the wire protocol over a real WebSocket.
import WebSocket from 'ws';
import type { MethodName, RequestData, ResponseFrame, NotificationFrame, NotificationName, NotificationData } from '../../protocol/index.js';

type Frame = ResponseFrame | NotificationFrame;

const isNotification = (f: Frame, method: NotificationName): f is NotificationFrame => f.kind === 'notification' && f.method === method;

/** A raw protocol client that records every frame it receives. */
export class SignallingClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  #nextId = 1;
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly #listeners: ((frame: Frame) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  static async connect(url: string): Promise<SignallingClient> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new SignallingClient(socket);
  }

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      for (const listener of this.#listeners) listener(frame);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  /** Send anything at all (for bad-frame tests). */
  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** Send a request and return the response frame (ok or error). */
  async send<M extends MethodName>(method: M, data: RequestData<M>): Promise<ResponseFrame> {
    return this.sendUnchecked(method, data);
  }

  /** Send a request whose data may be invalid on purpose. */
  async sendUnchecked(method: string, data: unknown): Promise<ResponseFrame> {
    const id = this.#nextId++;
    const reply = this.waitFor((f) => f.kind === 'response' && f.id === id);
    this.socket.send(JSON.stringify({ kind: 'request', id, method, data }));
    return (await reply) as ResponseFrame;
  }

  /** Send a request that must succeed; returns its data. */
  async ok<M extends MethodName>(method: M, data: RequestData<M>): Promise<Record<string, unknown>> {
    const reply = await this.send(method, data);
    if (!reply.ok) throw new Error(`${method} failed: ${reply.error.code} ${reply.error.message}`);
    return reply.data as Record<string, unknown>;
  }

  /** Wait for the next frame matching a predicate (or one already received, if `past`). */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Wait for a notification by name, including one that already arrived. */
  async notification<N extends NotificationName>(method: N, match: (data: NotificationData<N>) => boolean = () => true): Promise<NotificationData<N>> {
    const isIt = (f: Frame): boolean => isNotification(f, method) && match(f.data as NotificationData<N>);
    const past = this.frames.find(isIt);
    const frame = past ?? (await this.waitFor(isIt));
    return (frame as NotificationFrame).data as NotificationData<N>;
  }

  /** Call `handler` for every later notification named `method`. */
  onNotification<N extends NotificationName>(method: N, handler: (data: NotificationData<N>) => void): void {
    this.#listeners.push((f) => {
      if (isNotification(f, method)) handler(f.data as NotificationData<N>);
    });
  }

  /** Every notification named `method` received so far, oldest first. */
  received<N extends NotificationName>(method: N): NotificationData<N>[] {
    return this.frames.filter((f) => isNotification(f, method)).map((f) => (f as NotificationFrame).data as NotificationData<N>);
  }

  close(): void {
    this.socket.close();
  }
}
