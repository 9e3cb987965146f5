// Non-browser subscribers and publishers on the product's media plane, with real parts: mediasoup
// workers, a plain-RTP publisher fed by the bench's RTP generator (VP8 + opus with a counter in
// every payload), and subscribers whose PlainTransports send into UDP sockets of this test, which
// count the packets per SSRC. Placement, spreading, admission and close cascades are the product's
// (RoomMedia.addPlainSubscriber / addPlainPublisher), not a harness's.
import '../helpers/mediasoupLookup.js';
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { SfuError, type Sfu, type PlainSubscriber, type PlainPublisher, type RoomMedia, type Track, type CapacityOptions } from '../../sfu/index.js';
import { cleanupAfterEach, sleep, startTestSfu, waitFor } from '../helpers/testSfu.js';
import { publishGenerator } from '../../bench/lectern/LecternFanout.js';
import { RtpGenerator } from '../../bench/lib/RtpGenerator.js';
import { MARKER_MAGIC } from '../../bench/lib/rtpPackets.js';
import { mediasoupConsumer } from '../helpers/mediasoupLookup.js';

const cleanups = cleanupAfterEach();

function startSfu(capacity: Partial<CapacityOptions>): Promise<Sfu> {
  // Load samples far apart: placement here is decided by consumers, not by a CPU reading.
  return startTestSfu(cleanups, { workers: 2, capacity: { loadSampleMs: 600_000, ...capacity } });
}

/** The generator publishing VP8 and opus into the room through the product's plain publisher (as the bench's fan-out does), at 300 kbit/s. */
async function publish(room: RoomMedia): Promise<{ publisher: PlainPublisher; video: Track; audio: Track }> {
  const { publisher, video, audio, target } = await publishGenerator(room);
  const generator = await RtpGenerator.create({ video: target, audio: target, videoBitrate: 300_000 });
  generator.start();
  cleanups.push(() => generator.close());
  return { publisher, video, audio };
}

/** A UDP socket counting RTP packets per SSRC, and whether any payload carried the generator's plaintext marker. */
interface Receiver {
  port: number;
  socket: dgram.Socket;
  packets: Map<number, number>;
  plaintextSeen: boolean;
  total(): number;
}

async function receiver(): Promise<Receiver> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const magic = Buffer.alloc(4);
  magic.writeUInt32BE(MARKER_MAGIC);
  const r: Receiver = {
    port: socket.address().port,
    socket,
    packets: new Map(),
    plaintextSeen: false,
    total: () => [...r.packets.values()].reduce((a, b) => a + b, 0),
  };
  socket.on('message', (msg) => {
    if (msg.length < 12 || (msg[1]! >= 192 && msg[1]! <= 223)) return; // RTCP (payload types 192-223)
    const ssrc = msg.readUInt32BE(8);
    r.packets.set(ssrc, (r.packets.get(ssrc) ?? 0) + 1);
    if (msg.includes(magic)) r.plaintextSeen = true;
  });
  cleanups.push(() => {
    socket.close();
  });
  return r;
}

/** A plain subscriber sending to a fresh counting socket; every subscription resumed as it comes. */
async function subscribe(room: RoomMedia, id: string, srtp: boolean): Promise<{ subscriber: PlainSubscriber; receiver: Receiver }> {
  const rx = await receiver();
  const subscriber = room.addPlainSubscriber(id, srtp ? { srtpSuite: 'AEAD_AES_256_GCM' } : {});
  const info = await subscriber.open({ ip: '127.0.0.1', port: rx.port });
  expect(info.port).toBeGreaterThan(0);
  expect(info.srtp !== undefined).toBe(srtp);
  await room.catchUp(id);
  await Promise.all([...subscriber.subscriptions.values()].map((s) => subscriber.resume(s.id)));
  return { subscriber, receiver: rx };
}

/** SSRCs the subscriber's subscriptions are sent with. */
const ssrcsOf = (subscriber: PlainSubscriber) => [...subscriber.subscriptions.values()].map((s) => s.rtpParameters.encodings![0]!.ssrc!);

const consumersOn = (sfu: Sfu) => sfu.load().workers.map((w) => w.consumers);

describe('plain subscribers on the product media plane', () => {
  it('receive real RTP from a plain publisher: SRTP-encrypted when asked, plain otherwise, and with comedia', async () => {
    const sfu = await startSfu({});
    const room = await sfu.createRoomMedia('lecture');
    await publish(room);
    const secure = await subscribe(room, 'srtp-sink', true);
    const plain = await subscribe(room, 'rtp-sink', false);
    // comedia: the SFU sends to wherever the receiver's first packet (an RTCP receiver report) came from.
    const rx = await receiver();
    const comedia = room.addPlainSubscriber('comedia-sink');
    const info = await comedia.open({ comedia: true });
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 7]);
    rx.socket.send(rr, info.port, info.ip);
    await room.catchUp('comedia-sink');
    await Promise.all([...comedia.subscriptions.values()].map((s) => comedia.resume(s.id)));
    for (const { subscriber, receiver: r } of [secure, plain, { subscriber: comedia, receiver: rx }]) {
      expect(subscriber.subscriptions.size).toBe(2);
      await waitFor(`${subscriber.id} to receive video and audio`, () => ssrcsOf(subscriber).every((ssrc) => (r.packets.get(ssrc) ?? 0) >= 30), 15_000);
    }
    console.log('plain subscribers received (packets per SSRC):', [secure, plain].map((s) => Object.fromEntries(s.receiver.packets)), Object.fromEntries(rx.packets));
    // The generator's marker travels in every payload: visible in plain RTP, never under SRTP.
    expect(plain.receiver.plaintextSeen).toBe(true);
    expect(secure.receiver.plaintextSeen).toBe(false);
    // Counted where placement and admission look: 3 subscribers x 2 tracks.
    expect(consumersOn(sfu).reduce((a, b) => a + b)).toBe(6);
  }, 60_000);

  it('spread to a router on the second worker past roomSpreadConsumers, the tracks piped there, and receive', async () => {
    // Two subscribers of two tracks fill the first router's 4; the third goes to the other worker.
    const sfu = await startSfu({ roomSpreadConsumers: 4 });
    const room = await sfu.createRoomMedia('lecture');
    await publish(room);
    const first = await subscribe(room, 's1', true);
    const second = await subscribe(room, 's2', true);
    const third = await subscribe(room, 's3', true);
    expect(first.subscriber.workerIndex).toBe(room.workerIndex);
    expect(second.subscriber.workerIndex).toBe(room.workerIndex);
    expect(third.subscriber.workerIndex).not.toBe(room.workerIndex);
    expect(room.workerIndexes).toHaveLength(2);
    await waitFor('s3 (second worker) to receive both tracks', () => ssrcsOf(third.subscriber).every((ssrc) => (third.receiver.packets.get(ssrc) ?? 0) >= 30), 15_000);
    // The second worker carries s3's two consumers; the first its two pipe consumers besides s1's and s2's.
    const load = sfu.load().workers;
    expect(load.find((w) => w.index === third.subscriber.workerIndex)!.consumers).toBe(2);
    expect(load.find((w) => w.index === room.workerIndex)!.consumers).toBe(4 + 2);
  }, 60_000);

  it('are refused at_capacity past the capacity (less the instructors\' reserve), and those already in keep receiving', async () => {
    // 2 workers x 4 consumers = 8, less the 10 % reserve: 7. Three subscribers of two tracks fit (6); a fourth would make 8.
    const sfu = await startSfu({ consumersPerWorker: 4, reservedForInstructors: 0.1 });
    const room = await sfu.createRoomMedia('lecture');
    await publish(room);
    const admitted = [await subscribe(room, 's1', false), await subscribe(room, 's2', false), await subscribe(room, 's3', false)];
    let refused: unknown;
    try {
      room.addPlainSubscriber('s4');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(SfuError);
    expect(refused).toMatchObject({ reason: 'at_capacity' });
    console.log('refused:', (refused as Error).message);
    // Refused before anything was made: nothing of it is counted, and the others go on receiving.
    const before = admitted.map((a) => a.receiver.total());
    await sleep(1000);
    expect(admitted.map((a) => a.receiver.total() - before[admitted.indexOf(a)]!).every((n) => n > 50)).toBe(true);
    expect(room.tracks()).toHaveLength(2);
  }, 60_000);

  it('close cascades: an ended track ends its subscriptions on both workers (through the pipe), a closed subscriber frees its consumers and its router, nothing leaks', async () => {
    const sfu = await startSfu({ roomSpreadConsumers: 2 });
    const room = await sfu.createRoomMedia('lecture');
    const { publisher, video } = await publish(room);
    const home = await subscribe(room, 'home', false);
    const away = await subscribe(room, 'away', false);
    expect(away.subscriber.workerIndex).not.toBe(home.subscriber.workerIndex);
    expect(consumersOn(sfu).reduce((a, b) => a + b)).toBe(2 + 2 + 2); // two subscribers and two pipe consumers
    const videoSubscriptions = [home, away].map(({ subscriber }) => [...subscriber.subscriptions.values()].find((s) => s.kind === 'video')!);
    const ended: string[] = [];
    room.on('unsubscribed', (id, s) => ended.push(`${id}:${s.kind}`));

    publisher.unpublish(video.id);
    await waitFor('video subscriptions to end', () => ended.length === 2, 15_000);
    expect(ended.sort()).toEqual(['away:video', 'home:video']);
    for (const s of videoSubscriptions) {
      expect(s.closed).toBe(true);
      expect(mediasoupConsumer(s.id)).toBeUndefined();
    }
    expect(home.subscriber.subscriptions.size).toBe(1);
    expect(consumersOn(sfu).reduce((a, b) => a + b)).toBe(1 + 1 + 1); // audio: two subscribers and its pipe

    // The subscriber on the second worker leaves: its consumer goes, its router is dropped and with it the pipe.
    const awayAudio = [...away.subscriber.subscriptions.values()][0]!;
    away.subscriber.close();
    expect(awayAudio.closed).toBe(true);
    await waitFor('the second router to go', () => room.workerIndexes.length === 1, 15_000);
    await waitFor('the pipe consumer to go', () => consumersOn(sfu).reduce((a, b) => a + b) === 1, 15_000);
    expect(sfu.load().projectedConsumers).toBe(1);

    // The publisher leaves: nothing is left anywhere.
    publisher.close();
    await waitFor('every consumer to go', () => consumersOn(sfu).reduce((a, b) => a + b) === 0, 15_000);
    expect(home.subscriber.subscriptions.size).toBe(0);
    expect(room.tracks()).toHaveLength(0);
    home.subscriber.close();
    expect(sfu.load().projectedConsumers).toBe(0);
  }, 60_000);
});
