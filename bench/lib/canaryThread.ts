// The fuzz scenario's canary, on a worker thread of its own: an honest participant raising and
// lowering a hand every 50 ms and timing each reply. On the bench's main thread, its timings also
// held the fuzzers' and the junk flooder's own work (masking ~60 MB/s of junk frames in JavaScript),
// which is the harness's delay, not the server's.
import WebSocket from 'ws';
import { serveRequests } from './thread.js';

/** A request to the canary thread. */
export type CanaryRequest =
  | { op: 'start'; wsUrl: string }
  /** The round trips (ms) since the last take, and the requests refused meanwhile. */
  | { op: 'take' }
  | { op: 'stop' };

let socket: WebSocket | undefined;
let timer: NodeJS.Timeout | undefined;
let samples: number[] = [];
let failed = 0;

serveRequests<CanaryRequest>(async (request) => {
  switch (request.op) {
    case 'start': {
      const ws = new WebSocket(request.wsUrl, { localAddress: '127.0.0.1' });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      socket = ws;
      const pending = new Map<number, number>();
      ws.on('message', (raw) => {
        const frame = JSON.parse(raw.toString()) as { kind: string; id?: number; ok?: boolean };
        if (frame.kind !== 'response' || frame.id === undefined) return;
        const sent = pending.get(frame.id);
        if (sent === undefined) return;
        pending.delete(frame.id);
        if (frame.ok) samples.push(performance.now() - sent);
        else failed++;
      });
      let nextId = 1;
      const ask = (method: string, data: unknown) => {
        const id = nextId++;
        pending.set(id, performance.now());
        ws.send(JSON.stringify({ kind: 'request', id, method, data }));
      };
      ask('join', { room: 'canary', displayName: 'Canary' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      let raised = false;
      // 20 requests/s, under the server's per-connection limit.
      timer = setInterval(() => ask('raiseHand', { raised: (raised = !raised) }), 50);
      return undefined;
    }
    case 'take': {
      const taken = { samples, failed };
      samples = [];
      failed = 0;
      return taken;
    }
    case 'stop':
      clearInterval(timer);
      socket?.terminate();
      return undefined;
  }
});
