// Signalling load: N WebSocket sessions against a real Lectern server (server/app.ts build(), real
// config, real Sfu) in a child process. Measures connects/s, joins/s (every session joins at once,
// in rooms of up to 500) and the server's memory per idle joined session after a full GC.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startLecternProcess } from '../lib/lecternProcess.js';
import { quantile } from '../lib/stats.js';

/** What one signalling run measured. */
export interface SignallingResult {
  sessions: number;
  rooms: number;
  connectsPerSecond: number;
  joinsPerSecond: number;
  joinP50Ms: number;
  joinP99Ms: number;
  failedJoins: number;
  framesToClients: number;
  serverRssPerSessionKiB: number;
  serverHeapPerSessionKiB: number;
  note: string;
}

/** Run the signalling scenario for `sessions` sessions. */
export async function measureSignalling(sessions: number, roomSize = 500): Promise<SignallingResult> {
  const server = await startLecternProcess('signalling');
  const sockets: WebSocket[] = [];
  let frames = 0;
  try {
    const url = server.wsUrl;
    await sleep(200);
    const baseline = await server.memory();

    // Connect everyone, 200 handshakes in flight at a time.
    const connectStart = performance.now();
    for (let first = 0; first < sessions; first += 200) {
      const batch: Promise<void>[] = [];
      for (let i = first; i < Math.min(sessions, first + 200); i++) {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        sockets.push(ws);
        ws.on('message', () => frames++);
        batch.push(new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        }));
      }
      await Promise.all(batch);
    }
    const connectSeconds = (performance.now() - connectStart) / 1000;

    // Every session joins at once (a lecture starting); each waits for its own response.
    const latencies: number[] = [];
    let failed = 0;
    const joinStart = performance.now();
    await Promise.all(
      sockets.map(
        (ws, i) =>
          new Promise<void>((resolve) => {
            const sent = performance.now();
            const onMessage = (raw: WebSocket.RawData) => {
              const frame = JSON.parse(raw.toString()) as { kind: string; id?: number; ok?: boolean };
              if (frame.kind !== 'response' || frame.id !== 1) return;
              ws.off('message', onMessage);
              latencies.push(performance.now() - sent);
              if (!frame.ok) failed++;
              resolve();
            };
            ws.on('message', onMessage);
            ws.send(JSON.stringify({ kind: 'request', id: 1, method: 'join', data: { room: `bench-${Math.floor(i / roomSize)}`, displayName: `s${i}` } }));
          }),
      ),
    );
    const joinSeconds = (performance.now() - joinStart) / 1000;
    await sleep(1000); // let notifications settle; sessions are now idle
    const idle = await server.memory();
    return {
      sessions,
      rooms: Math.ceil(sessions / roomSize),
      connectsPerSecond: Math.round(sessions / connectSeconds),
      joinsPerSecond: Math.round(sessions / joinSeconds),
      joinP50Ms: quantile(latencies, 0.5),
      joinP99Ms: quantile(latencies, 0.99),
      failedJoins: failed,
      framesToClients: frames,
      serverRssPerSessionKiB: (idle.rss - baseline.rss) / 1024 / sessions,
      serverHeapPerSessionKiB: (idle.heapUsed + idle.external - baseline.heapUsed - baseline.external) / 1024 / sessions,
      note: `rooms of ${roomSize}; memory after global.gc() in the server process`,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.close();
  }
}
