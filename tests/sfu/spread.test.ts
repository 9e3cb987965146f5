// One room across workers, and placement by load. Real mediasoup workers; the spreading test runs
// a real Lectern with werift WebRTC participants (the bench's bots: real VP8 and opus over ICE,
// DTLS and SRTP), so "receiving" means RTP arrived at a subscriber placed on the second worker.
import '../helpers/mediasoupLookup.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Sfu, type SfuOptions } from '../../sfu/index.js';
import { vp8Parameters } from '../helpers/media.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { BotParticipant } from '../../bench/lib/BotParticipant.js';
import { loadWerift } from '../../bench/lib/werift.js';
import { vp8Clip } from '../../bench/lib/vp8Clip.js';
import { mediasoupConsumersIn, mediasoupProducer } from '../helpers/mediasoupLookup.js';

const base: SfuOptions = {
  workers: 2,
  listenIp: '127.0.0.1',
  rtcPort: 0,
  logLevel: 'warn',
  maxIncomingBitrate: 1_500_000,
  initialAvailableOutgoingBitrate: 600_000,
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startSfu(options: Partial<SfuOptions> = {}): Promise<Sfu> {
  const sfu = await Sfu.create({ ...base, ...options });
  cleanups.push(async () => {
    const exits = sfu.pool.workers.map((w) => new Promise<void>((r) => w.worker.observer.once('close', () => r())));
    sfu.close();
    await Promise.all(exits);
  });
  return sfu;
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('one room across workers', () => {
  it('sends new subscribers to a second worker past the spread threshold, pipes the tracks there, and they receive RTP', async () => {
    // Threshold 3 consumers: ada and bob (2 tracks each, receiving each other's) fill the first router; carol spreads.
    let lectern: TestLectern | undefined = await startLectern(
      // A bot's socket closing is a dropped connection: it has left once the (short) resume grace is over.
      { media: { capacity: { roomSpreadConsumers: 3, loadSampleMs: 60_000 } }, signalling: { resumeGraceSeconds: 1 } },
      { workers: 2 },
    );
    const server = lectern;
    cleanups.push(async () => lectern?.close());
    const werift = await loadWerift();
    const clip = vp8Clip(160, 90, 15, 2, 100);
    const bots: BotParticipant[] = [];
    cleanups.push(async () => void (await Promise.all(bots.map((b) => b.close()))));
    const join = async (name: string) => {
      const bot = await BotParticipant.join(werift, server.wsUrl, 'lecture', name, clip);
      bots.push(bot);
      return bot;
    };
    const ada = await join('Ada');
    await until('ada to publish', () => ada.producers.length >= 2 && ada.producers.every((p) => mediasoupProducer(p.id) !== undefined));
    const bob = await join('Bob');
    await until('bob to receive ada', () => bob.consumerCount >= 2);
    const before = server.sfu.load().workers.map((w) => w.routers);
    const carol = await join('Carol');
    // Every one of the three receives the other two (2 tracks each), wherever they are placed.
    await until('everyone to receive everyone', () => [ada, bob, carol].every((b) => b.consumerCount >= 4));
    const load = server.sfu.load();
    // The room now has a router on each worker (one more router than before carol), and the second carries consumers.
    expect(load.workers.map((w) => w.routers).reduce((a, b) => a + b)).toBe(before.reduce((a, b) => a + b) + 1);
    expect(load.workers.every((w) => w.routers === 1)).toBe(true);
    expect(load.workers.every((w) => w.consumers > 0)).toBe(true);

    // Real RTP reaches carol (second worker) from ada (first), and bob (first) from carol (second).
    const counted = () => [ada, bob, carol].map((b) => b.counts());
    await until('video and audio to arrive at everyone', () => counted().every((c) => c.video.streams >= 2 && c.audio.streams >= 2));
    await server.sfu.sampleLoad();
    await new Promise((r) => setTimeout(r, 1000));
    await server.sfu.sampleLoad();
    const sampled = server.sfu.load().workers;
    expect(sampled.every((w) => w.sendBitrate > 0 && w.cpu > 0)).toBe(true);

    // Closes cascade across the pipe. Participants' consumers (pipes carry no participant) by sender:
    // each of the three is received by the two others, audio and video.
    const bySender = () => {
      const counts = new Map<string, number>();
      for (const c of mediasoupConsumersIn('lecture')) {
        const sender = c.appData.peerId;
        if (typeof sender === 'string') counts.set(sender, (counts.get(sender) ?? 0) + 1);
      }
      return [...counts.values()].sort();
    };
    expect(bySender()).toEqual([4, 4, 4]);
    await ada.close();
    // Ada's tracks end, and with them every consumer of them, on the second worker through its pipe
    // too; what ada received goes with her transports. Bob and carol keep each other.
    await until('consumers of ada to close everywhere', () => bySender().join() === '2,2');
    expect(server.sfu.load().workers.reduce((n, w) => n + w.consumers, 0)).toBe(4 + 4);
    await lectern.close();
    lectern = undefined;
  });
});

describe('placement', () => {
  it('puts a new room on the less loaded worker by load, not on the one with fewer rooms', async () => {
    const sfu = await startSfu();
    const heavy = await sfu.createRoomMedia('heavy');
    const firstEmpty = await sfu.createRoomMedia('empty-1');
    expect(firstEmpty.workerIndex).not.toBe(heavy.workerIndex);
    // The heavy room: one publisher and six subscribers receiving its camera.
    const ada = heavy.addPeer('ada');
    const send = await ada.createTransport('send');
    const track = await ada.publish(send.id, 'video', vp8Parameters(), 'camera');
    for (let i = 0; i < 6; i++) {
      const student = heavy.addPeer(`s${i}`);
      await student.createTransport('recv');
      student.receiveWith(heavy.rtpCapabilities);
      await student.subscribe(track);
    }
    const more = [await sfu.createRoomMedia('empty-2'), await sfu.createRoomMedia('empty-3')];
    expect(more.map((r) => r.workerIndex)).toEqual([firstEmpty.workerIndex, firstEmpty.workerIndex]);
    // Worker A: one room with 6 consumers. Worker B: three empty rooms.
    const load = sfu.load();
    const a = load.workers.find((w) => w.index === heavy.workerIndex)!;
    const b = load.workers.find((w) => w.index === firstEmpty.workerIndex)!;
    expect([a.routers, a.consumers, b.routers, b.consumers]).toEqual([1, 6, 3, 0]);
    expect(a.score).toBeGreaterThan(b.score);
    const next = await sfu.createRoomMedia('next');
    expect(next.workerIndex).toBe(b.index);
  });

  it('counts subscribers placed in a room before their consumers exist, so a class arriving at once spreads', async () => {
    const sfu = await startSfu({ capacity: { roomSpreadConsumers: 4 } });
    const room = await sfu.createRoomMedia('lecture');
    const ada = room.addPeer('ada');
    const send = await ada.createTransport('send');
    await ada.publish(send.id, 'video', vp8Parameters(), 'camera');
    // Ten students ask for transports at the same moment: each counts as one consumer due (ada, its
    // publisher, is due none: nobody else publishes).
    const students = Array.from({ length: 10 }, (_, i) => room.addPeer(`s${i}`));
    await Promise.all(students.map((s) => s.createTransport('recv')));
    expect(room.workerIndexes.length).toBe(2);
    const perWorker = sfu.load().workers.map((w) => w.projectedConsumers);
    // 4 students fill the first router to 4, the next 4 the second; with both past the threshold and
    // no third worker, the rest go to whichever is less loaded (the first on a tie): 5 and 5.
    expect(perWorker[room.workerIndexes[0]!]).toBe(5);
    expect(perWorker[room.workerIndexes[1]!]).toBe(5);
  });
});
