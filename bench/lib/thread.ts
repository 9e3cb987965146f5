// Request/reply with a bench worker thread (the sink, the seminar's bots): the main thread calls,
// the thread serves. Worker threads do not inherit tsx's loader hooks on Node 20, so the thread is
// bootstrapped through tsx's API.
import { Worker, parentPort } from 'node:worker_threads';

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** The main thread's end. */
export class BenchThread<Request extends { op: string }> {
  readonly #worker: Worker;
  readonly #name: string;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  /** Start `entry` (a module URL) on a worker thread. */
  static async start<R extends { op: string }>(entry: URL, name: string): Promise<BenchThread<R>> {
    const bootstrap = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(bootstrap, { eval: true });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new BenchThread<R>(worker, name);
  }

  private constructor(worker: Worker, name: string) {
    this.#worker = worker;
    this.#name = name;
    worker.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(new Error(`${this.#name}: ${reply.error}`));
    });
    worker.on('error', (error) => {
      for (const p of this.#pending.values()) p.reject(error);
      this.#pending.clear();
    });
  }

  call<T>(request: Request): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }
}

/** The thread's end: answer every request with `handle`'s result or error. */
export function serveRequests<Request extends { op: string }>(handle: (request: Request) => Promise<unknown>): void {
  const port = parentPort;
  if (!port) throw new Error('must run as a worker thread');
  port.on('message', (request: Request & { id: number }) => {
    handle(request).then(
      (result) => port.postMessage({ id: request.id, ok: true, result } satisfies Reply),
      (error: unknown) => port.postMessage({ id: request.id, ok: false, error: String((error as Error)?.stack ?? error) } satisfies Reply),
    );
  });
}
