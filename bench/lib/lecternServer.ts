// A real Lectern (server/app.ts build() on a real Sfu, 127.0.0.1, OS-chosen ports) in a process of
// its own, so the bench's clients (WebSockets, Playwright) neither share its event loop nor count in
// its memory. Forked by lecternProcess.ts with a profile in argv[2]; prints nothing and answers over
// IPC: { op: 'memory' } (after a full GC), { op: 'media' } (mediasoup packet counts), { op: 'close' }.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../../server/app.js';
import { parseConfig } from '../../config/index.js';
import { Sfu } from '../../sfu/index.js';
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

// A throw-away audit log: the bench must not write into the project's .lectern/.
const auditDir = mkdtempSync(join(tmpdir(), 'lectern-bench-audit-'));
const config = parseConfig({
  log: { level: 'silent' },
  audit: { dir: auditDir },
  // 'signalling': one worker and rooms of up to 5000, for thousands of WebSocket sessions.
  // 'default': what `npm start` runs (one worker per core).
  ...(profile === 'signalling' ? { media: { workers: 1, listenIp: '127.0.0.1', rtcPort: 40000 }, rooms: { maxPeersPerRoom: 5000 } } : {}),
});
const sfu = await Sfu.create({ ...config.media, listenIp: '127.0.0.1', rtcPort: 0, logLevel: 'warn' });
const { app } = await build({ config, sfu });
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;

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
    void app.close().then(() => {
      sfu.close();
      rmSync(auditDir, { recursive: true, force: true });
      reply({});
      setTimeout(() => process.exit(0), 200);
    });
  }
});
send({ op: 'ready', port, workerPids: sfu.pool.workers.map((w) => w.worker.pid) });
