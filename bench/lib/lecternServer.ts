// A real Lectern (server/app.ts build() on a real Sfu, 127.0.0.1, OS-chosen ports) in a process of
// its own, so the bench's clients (WebSockets, Playwright) neither share its event loop nor count in
// its memory. Forked by lecternProcess.ts with a profile in argv[2]; prints nothing and answers over
// IPC: { op: 'memory' } (after a full GC), { op: 'media' } (mediasoup packet counts), { op: 'close' },
// { op: 'token', room, role, subject } (a signed room link, as an LMS or the room page would hand
// out) and { op: 'transports' } (every WebRTC transport's ICE/DTLS state and its consumers);
// { op: 'record', tracks } records that many of the room's producers (cameras first) with the
// product's recorder into the server's own encrypted store, { op: 'stopRecording' } stops them.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { rmSync } from 'node:fs';
import { parseConfig } from '../../config/index.js';
import { startLectern } from '../../tests/helpers/lectern.js';
import { TrackRecorder } from '../../sfu/recorder/index.js';
import type { TrackProducer } from '../../sfu/Track.js';
import type { LecternProfile, MediaCounts, Memory, TransportState } from './lecternProcess.js';

const profile = process.argv[2] as Exclude<LecternProfile, object> | 'class';
const send = (message: unknown): void => {
  process.send?.(message);
};

// Count through mediasoup's observer: the Sfu keeps its routers private, and a bench must not need
// hooks in the product.
const consumers = new Set<types.Consumer>();
const producers = new Set<types.Producer>();
const transports = new Set<types.Transport>();
/** A transport has no public list of its consumers: each is noted as it is created. */
const consumerTransport = new WeakMap<types.Consumer, string>();
const producerRouter = new WeakMap<types.Producer, types.Router>();
mediasoup.observer.on('newworker', (worker) =>
  worker.observer.on('newrouter', (router) =>
    router.observer.on('newtransport', (transport) => {
      transports.add(transport);
      transport.observer.once('close', () => transports.delete(transport));
      transport.observer.on('newconsumer', (c) => {
        consumers.add(c);
        consumerTransport.set(c, transport.id);
        c.observer.once('close', () => consumers.delete(c));
      });
      transport.observer.on('newproducer', (p) => {
        producers.add(p);
        producerRouter.set(p, router);
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
// 'class': 'default' with rooms.maxVideoConsumers from argv[3].
const lectern =
  profile === 'signalling'
    ? // 10k sessions connect from the one bench address within seconds: past the per-address default.
      await startLectern({ rooms: { maxPeersPerRoom: 5000 }, signalling: { maxConnectionsPerAddressPerMinute: 100_000 } }, { workers: 1 })
    : profile === 'fuzz'
      ? await startLectern({ rooms: { maxPeersPerRoom: 5000, emptyRoomTimeoutSeconds: 2 }, signalling: { resumeGraceSeconds: 2 } }, { workers: 1 })
      : profile === 'class'
        ? await startLectern({ rooms: { maxVideoConsumers: Number(process.argv[3]) } }, { workers: parseConfig({}).media.workers })
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

/**
 * Every transport the server holds, by the id signalling handed the client, with its consumers and
 * the packets each sent so far: what tells a subscriber that received nothing apart (no consumer,
 * a paused one, a transport whose ICE or DTLS never completed, or packets sent that never arrived).
 */
async function transportStates(): Promise<TransportState[]> {
  const byTransport = new Map<string, TransportState>();
  for (const t of transports) {
    const webrtc = t as Partial<types.WebRtcTransport>;
    byTransport.set(t.id, { id: t.id, iceState: webrtc.iceState ?? '-', dtlsState: webrtc.dtlsState ?? '-', consumers: [] });
  }
  await Promise.all(
    [...consumers].map(async (c) => {
      let packets = 0;
      for (const s of await c.getStats().catch(() => [])) if (s.type === 'outbound-rtp') packets += s.packetCount;
      const state = byTransport.get(consumerTransport.get(c) ?? '');
      state?.consumers.push({ id: c.id, producerId: c.producerId, kind: c.kind, paused: c.paused, producerPaused: c.producerPaused, packets });
    }),
  );
  return [...byTransport.values()];
}

/** Recorders started by 'record': the muxer pids for CPU, and what each segment ended with. */
interface BenchRecording {
  recorders: TrackRecorder[];
  writes: Promise<unknown>[];
  ends: { trackId: string; lost: number; packets: number; bytes: number; keyFrameRequests: number }[];
  errors: string[];
}
let recording: BenchRecording | undefined;

/** Record `tracks` of the participants' producers (cameras, then microphones) into the server's store. */
async function record(tracks: number): Promise<{ trackIds: string[]; muxerPids: number[]; errors: string[] }> {
  const id = `bench-${Date.now()}`;
  await lectern.recordings.store.create(id, { room: 'bench' });
  const current: BenchRecording = { recorders: [], writes: [], ends: [], errors: [] };
  recording = current;
  // Only participants' producers (WebRTC transports): not the recorders' own plain transports.
  const candidates = [...producers]
    .filter((p) => !p.closed && typeof (p.appData as { peerId?: unknown }).peerId === 'string')
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'video' ? -1 : 1))
    .slice(0, tracks);
  for (const producer of candidates) {
    try {
      const recorder = await TrackRecorder.start({ router: producerRouter.get(producer)!, producer: producer as TrackProducer });
      recorder.on('segment', (segment) => current.writes.push(lectern.recordings.store.writeSegment(id, segment.meta, segment.stream).catch((error: Error) => current.errors.push(error.message))));
      recorder.on('segmentEnd', (meta, end) => current.ends.push({ trackId: meta.trackId, lost: end.lost, packets: end.packets, bytes: end.bytes, keyFrameRequests: end.keyFrameRequests }));
      recorder.on('error', (error) => current.errors.push(error.message));
      current.recorders.push(recorder);
    } catch (error) {
      current.errors.push((error as Error).message);
    }
  }
  // A muxer starts with its recorder; wait for each to have a pid (it has, once start resolved).
  return { trackIds: current.recorders.map((r) => r.trackId), muxerPids: current.recorders.map((r) => r.muxerPid).filter((pid): pid is number => pid !== undefined), errors: current.errors };
}

async function stopRecording(): Promise<Omit<BenchRecording, 'recorders' | 'writes'>> {
  const current = recording;
  recording = undefined;
  if (!current) return { ends: [], errors: ['no recording'] };
  await Promise.all(current.recorders.map((r) => r.stop()));
  await Promise.all(current.writes);
  return { ends: current.ends, errors: current.errors };
}

process.on('message', (message: { op: string; id: number; room?: string; role?: 'instructor' | 'student'; subject?: string; tracks?: number }) => {
  const reply = (data: object) => send({ ...data, op: message.op, id: message.id });
  if (message.op === 'record') void record(message.tracks ?? 1).then(reply, (error: Error) => reply({ trackIds: [], muxerPids: [], errors: [error.message] }));
  if (message.op === 'stopRecording') void stopRecording().then(reply);
  if (message.op === 'memory') reply(memory());
  if (message.op === 'media') void media().then(reply);
  if (message.op === 'transports') void transportStates().then((list) => reply({ transports: list }));
  if (message.op === 'token') {
    void lectern.authenticator
      .issueRoomToken({ room: message.room!, role: message.role!, subject: message.subject! })
      .then(
        (token) => reply({ token }),
        (error: Error) => reply({ error: error.message }),
      );
  }
  if (message.op === 'close') {
    void lectern.close().then(() => {
      rmSync(lectern.config.audit.dir, { recursive: true, force: true });
      reply({});
      setTimeout(() => process.exit(0), 200);
    });
  }
});
send({ op: 'ready', port, workerPids: sfu.pool.workers.map((w) => w.worker.pid) });
