// The browser end of the signalling WebSocket: typed requests with promised replies, and typed
// notifications. Types come from protocol/, so client and server cannot drift apart silently.
import type {
  MethodName,
  RequestData,
  ReplyData,
  NotificationName,
  NotificationData,
  ServerFrame,
  WireError,
} from '../../protocol/index.js';

/** A request the server refused. */
export class RequestError extends Error {
  readonly code: WireError['code'];
  /** With `moved`: the origin of the server that holds the class. */
  readonly redirect: string | undefined;
  constructor(method: string, error: WireError) {
    super(`${method}: ${error.message}`);
    this.code = error.code;
    this.redirect = error.redirect;
  }
}

type Listener<N extends NotificationName> = (data: NotificationData<N>) => void;

const REQUEST_TIMEOUT_MS = 15_000;
// The server's bucket refills at maxRequestsPerSecond (50 by default): 250 ms, then 500, 1000, 2000.
const RATE_LIMIT_RETRIES = 4;
const RATE_LIMIT_BACKOFF_MS = 250;

/**
 * One signalling connection. It can be reopened on a new socket after a drop (`reopen`): listeners
 * stay, requests in flight on the old socket fail, and the caller resumes its membership.
 */
export class Signalling {
  #socket: WebSocket;
  readonly #pending = new Map<number, { method: string; resolve: (d: unknown) => void; reject: (e: Error) => void }>();
  readonly #listeners = new Map<NotificationName, Set<(data: never) => void>>();
  #nextId = 1;
  onclose: ((reason: string) => void) | undefined;

  /** Open the socket to this page's own origin (never anywhere else). */
  static async connect(): Promise<Signalling> {
    return new Signalling(await openSocket());
  }

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    this.#wire(socket);
  }

  /** Open a new socket in place of a closed one; listeners are kept. Rejects if the server cannot be reached. */
  async reopen(): Promise<void> {
    const socket = await openSocket();
    const old = this.#socket;
    this.#socket = socket;
    this.#wire(socket);
    if (old.readyState === WebSocket.OPEN || old.readyState === WebSocket.CONNECTING) old.close(1000, 'replaced');
  }

  #wire(socket: WebSocket): void {
    socket.addEventListener('message', (event) => {
      if (socket === this.#socket) this.#onMessage(event.data);
    });
    socket.addEventListener('close', (event) => {
      // A socket replaced by reopen() is no news.
      if (socket !== this.#socket) return;
      for (const pending of this.#pending.values()) pending.reject(new Error('connection closed'));
      this.#pending.clear();
      this.onclose?.(event.reason || `connection closed (${event.code})`);
    });
  }

  /** Whether the socket is open (a connection opened early may have closed since). */
  get isOpen(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /**
   * Send a request and wait for its reply. When the server says to slow down (a big class joining
   * sends dozens of requests at once: one resume per track, one size per tile), wait and try again
   * rather than leave a track paused for good.
   */
  async request<M extends MethodName>(method: M, data: RequestData<M>): Promise<ReplyData<M>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#requestOnce(method, data);
      } catch (error) {
        if (!(error instanceof RequestError) || error.code !== 'rate_limited' || attempt >= RATE_LIMIT_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_BACKOFF_MS * 2 ** attempt * (0.5 + Math.random())));
      }
    }
  }

  #requestOnce<M extends MethodName>(method: M, data: RequestData<M>): Promise<ReplyData<M>> {
    const id = this.#nextId++;
    // Sent on a closed socket a request would just wait for its timeout: fail it now.
    if (this.#socket.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`${method}: not connected`));
    return new Promise<ReplyData<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no reply from the server`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, {
        method,
        resolve: (d) => {
          clearTimeout(timer);
          resolve(d as ReplyData<M>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#socket.send(JSON.stringify({ kind: 'request', id, method, data }));
    });
  }

  /** Listen to a notification. */
  on<N extends NotificationName>(method: N, listener: Listener<N>): void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, (set = new Set()));
    set.add(listener as (data: never) => void);
  }

  /** Close the connection. */
  close(): void {
    this.onclose = undefined;
    this.#socket.close(1000, 'left');
  }

  #onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    // The server is this page's own origin and validates what it sends against the same schemas.
    const frame = JSON.parse(raw) as ServerFrame;
    if (frame.kind === 'notification') {
      for (const listener of this.#listeners.get(frame.method) ?? []) listener(frame.data as never);
      return;
    }
    if (frame.id === null) {
      console.warn('signalling error', frame.ok ? frame : frame.error);
      return;
    }
    const pending = this.#pending.get(frame.id);
    if (!pending) return;
    this.#pending.delete(frame.id);
    if (frame.ok) pending.resolve(frame.data);
    else pending.reject(new RequestError(pending.method, frame.error));
  }
}

/** A WebSocket to this page's own origin (never anywhere else), once open. */
async function openSocket(): Promise<WebSocket> {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('cannot reach the Lectern server')), { once: true });
  });
  return socket;
}
