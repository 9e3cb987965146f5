// A real Lectern (server/app.ts build() on a real Sfu, 127.0.0.1, OS-chosen ports) in a process of
// its own, so the bench's clients (WebSockets, Playwright) neither share its event loop nor count in
// its memory. Forked by lecternProcess.ts with a profile in argv[2]; prints nothing and answers over
// IPC: { op: 'memory' } (after a full GC), { op: 'media' } (mediasoup packet counts), { op: 'close' }.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { rmSync } from 'node:fs';
import { parseConfig } from '../../config/index.js';
import { startLectern } from '../../tests/helpers/lectern.js';
import type { LecternProfile, MediaCounts, Memory } from './lecternProcess.js';

const profile = process.argv[2] as LecternProfile;
const send = (message: unknown): void => {
  process.send?.(message);
};

// Count through mediasoup's observer: the Sfu keeps its routers private, and a bench must not need
// hooks in the product.
const consumers = new Set<types.Consumer>();
const producers = new Set<types.Producer>();
mediasoup.observer.on('newworker', (worker) =>
  worker.observer.on('newrouter', (router) =>
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newconsumer', (c) => {
        consumers.add(c);
        c.observer.once('close', () => consumers.delete(c));
      });
      transport.observer.on('newproducer', (p) => {
        producers.add(p);
        p.observer.once('close', () => producers.delete(p));
      });
    }),
  ),
);

// What the tests start (tests/helpers/lectern.ts: a throw-away audit dir, media on 127.0.0.1 and
// OS-chosen ports), with the profile's settings.
// 'signalling': one worker and rooms of up to 5000, for thousands of WebSocket sessions.
// 'default': what `npm start` runs (one worker per core).
// 'fuzz': 'signalling' with rooms closed 2 s after they empty and dropped connections held 2 s.
const lectern =
  profile === 'signalling'
    ? // 10k sessions connect from the one bench address within seconds: past the per-address default.
      await startLectern({ rooms: { maxPeersPerRoom: 5000 }, signalling: { maxConnectionsPerAddressPerMinute: 100_000 } }, { workers: 1 })
    : profile === 'fuzz'
      ? await startLectern({ rooms: { maxPeersPerRoom: 5000, emptyRoomTimeoutSeconds: 2 }, signalling: { resumeGraceSeconds: 2 } }, { workers: 1 })
      : await startLectern({}, { workers: parseConfig({}).media.workers });
const { sfu } = lectern;
const port = Number(new URL(lectern.url).port);

function memory(): Memory {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

async function media(): Promise<MediaCounts> {
  let sent = 0;
  let received = 0;
  const perProducer: number[] = [];
  await Promise.all([
    ...[...consumers].map(async (c) => {
      for (const s of await c.getStats().catch(() => [])) if (s.type === 'outbound-rtp') sent += s.packetCount;
    }),
    ...[...producers].map(async (p) => {
      let n = 0;
      for (const s of await p.getStats().catch(() => [])) if (s.type === 'inbound-rtp') n += s.packetCount;
      received += n;
      perProducer.push(n);
    }),
  ]);
  return { sent, received, perProducer };
}

process.on('message', (message: { op: string; id: number }) => {
  const reply = (data: object) => send({ ...data, op: message.op, id: message.id });
  if (message.op === 'memory') reply(memory());
  if (message.op === 'media') void media().then(reply);
  if (message.op === 'close') {
    void lectern.close().then(() => {
      rmSync(lectern.config.audit.dir, { recursive: true, force: true });
      reply({});
      setTimeout(() => process.exit(0), 200);
    });
  }
});
send({ op: 'ready', port, workerPids: sfu.pool.workers.map((w) => w.worker.pid) });
