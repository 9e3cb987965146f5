// Only the M loudest microphones are forwarded, measured on packets that really leave a real
// mediasoup worker. Senders are plain-RTP Opus streams carrying the ssrc-audio-level header extension
// (RFC 6464, what browsers send); the receiver is a plain-RTP consumer transport whose packets are
// counted per consumer at a UDP socket of ours.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { LoudestSpeakers, Sfu, roomMediaCodecs } from '../../sfu/index.js';
import type { TrackConsumer, TrackProducer } from '../../sfu/Track.js';

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const LISTEN = { protocol: 'udp', ip: '127.0.0.1' } as const;

const started: { sfu: Sfu; sockets: Socket[]; timers: NodeJS.Timeout[] }[] = [];

afterEach(async () => {
  for (const { sfu, sockets, timers } of started.splice(0)) {
    for (const timer of timers) clearInterval(timer);
    for (const socket of sockets) socket.close();
    const exits = sfu.pool.workers.map((w) => new Promise<void>((r) => w.worker.observer.once('close', () => r())));
    sfu.close();
    await Promise.all(exits);
  }
});

/** An Opus RTP packet with a one-byte header extension (RFC 8285) carrying the audio level. */
function opusPacket(ssrc: number, seq: number, timestamp: number, levelDbov: number): Buffer {
  const packet = Buffer.alloc(12 + 8 + 40);
  packet[0] = 0x90; // V=2, X=1
  packet[1] = 111;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  packet.writeUInt16BE(0xbede, 12); // one-byte header extensions
  packet.writeUInt16BE(1, 14); // one 32-bit word
  packet[16] = (1 << 4) | 0; // id 1, one byte of data
  packet[17] = 0x80 | Math.min(127, Math.round(-levelDbov)); // V=1 (voice), level as -dBov
  packet[20] = 0xf8; // Opus TOC: CELT FB 20 ms, one frame; the rest is a stand-in frame
  return packet;
}

/** A test room: a router with LoudestSpeakers, plain-RTP senders and one counting receiver. */
async function room(limit: number) {
  const sfu = await Sfu.create({ workers: 1, listenIp: '127.0.0.1', rtcPort: 0, logLevel: 'warn', maxIncomingBitrate: 1_500_000, initialAvailableOutgoingBitrate: 600_000 });
  const handle = { sfu, sockets: [] as Socket[], timers: [] as NodeJS.Timeout[] };
  started.push(handle);
  const router = await sfu.pool.workers[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
  const loudest = await LoudestSpeakers.create(router, limit);

  const sink = createSocket('udp4');
  handle.sockets.push(sink);
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  const received = new Map<number, number>();
  sink.on('message', (msg) => {
    if (msg.length < 12 || (msg[1]! >= 200 && msg[1]! <= 207)) return; // RTCP (SR, RR, feedback)
    const ssrc = msg.readUInt32BE(8);
    received.set(ssrc, (received.get(ssrc) ?? 0) + 1);
  });
  const recv = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: false });
  await recv.connect({ ip: '127.0.0.1', port: sink.address().port });

  let nextSsrc = 0x1000;
  /** A participant sending a microphone at `level` dBov, consumed (and resumed, as a client would) by the receiver. */
  async function speaker(peerId: string, level: number) {
    const ssrc = nextSsrc++;
    const send = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: true });
    const producer = (await send.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
        headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: 1 }],
        encodings: [{ ssrc }],
      },
      appData: { source: 'microphone', peerId },
    })) as TrackProducer;
    loudest.addProducer(producer);
    const consumer = (await recv.consume({
      producerId: producer.id,
      rtpCapabilities: router.rtpCapabilities,
      paused: true,
      appData: { ...producer.appData },
    })) as TrackConsumer;
    loudest.add(consumer);
    await loudest.resume(consumer);
    const socket = createSocket('udp4');
    handle.sockets.push(socket);
    const state = { level, seq: 0, timestamp: 0 };
    const port = send.tuple.localPort;
    handle.timers.push(
      setInterval(() => {
        socket.send(opusPacket(ssrc, state.seq++, (state.timestamp += 960), state.level), port, '127.0.0.1');
      }, 20),
    );
    const outSsrc = consumer.rtpParameters.encodings![0]!.ssrc!;
    return { producer, consumer, state, packets: () => received.get(outSsrc) ?? 0 };
  }
  return { router, loudest, speaker };
}

type Speaker = Awaited<ReturnType<Awaited<ReturnType<typeof room>>['speaker']>>;

/** Packets each speaker's consumer delivered to the receiver over `ms`. */
async function countOver(speakers: Speaker[], ms: number): Promise<number[]> {
  const before = speakers.map((s) => s.packets());
  await new Promise((resolve) => setTimeout(resolve, ms));
  return speakers.map((s, i) => s.packets() - before[i]!);
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('LoudestSpeakers', () => {
  it('with M = 2 and three open microphones forwards the two loudest; the quietest comes back when it gets louder', async () => {
    const { loudest, speaker } = await room(2);
    // The quietest arrives first, so it holds a place at first: levels, not order, must decide.
    const quiet = await speaker('quiet', -60);
    const loud = await speaker('loud', -20);
    const middle = await speaker('middle', -30);
    const all = [quiet, loud, middle];
    await until(() => !loudest.isForwarded(quiet.producer.id) && loudest.isForwarded(middle.producer.id), 'the quiet one to be dropped');
    // Packets already in flight at the switch are not part of the measure.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [q1, l1, m1] = await countOver(all, 1500);
    expect(q1).toBe(0);
    expect(l1).toBeGreaterThan(40); // 50 packets/s
    expect(m1).toBeGreaterThan(40);
    expect((await quiet.consumer.getStats()).find((s) => s.type === 'outbound-rtp')).toBeDefined();

    quiet.state.level = -5;
    const louder = Date.now();
    await until(() => loudest.isForwarded(quiet.producer.id), 'the quiet one, now loudest, to come back');
    const switchMs = Date.now() - louder;
    expect(loudest.isForwarded(middle.producer.id)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [q2, l2, m2] = await countOver(all, 1500);
    expect(q2).toBeGreaterThan(40);
    expect(l2).toBeGreaterThan(40);
    expect(m2).toBe(0);
    console.log(`packets in 1.5 s (quiet, loud, middle): before ${[q1, l1, m1].join(', ')}; after the quiet one got loud ${[q2, l2, m2].join(', ')}; back after ${switchMs} ms`);
  });

  it('forwards everyone while no more than M are open, and a muted microphone gives its place to a waiting one', async () => {
    const { loudest, speaker } = await room(2);
    const a = await speaker('a', -20);
    const b = await speaker('b', -25);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await countOver([a, b], 1000)).every((n) => n > 30)).toBe(true);
    const c = await speaker('c', -50);
    await until(() => !loudest.isForwarded(c.producer.id) && loudest.isForwarded(a.producer.id) && loudest.isForwarded(b.producer.id), 'c to wait');
    await a.producer.pause();
    await until(() => loudest.isForwarded(c.producer.id), 'c to take the muted place');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [, bn, cn] = await countOver([a, b, c], 1000);
    expect(bn).toBeGreaterThan(30);
    expect(cn).toBeGreaterThan(30);
  });

  it('never stops forwarding a pinned participant (an instructor), who does not take one of the M places', async () => {
    const { loudest, speaker } = await room(1);
    loudest.pin('instructor', true);
    const instructor = await speaker('instructor', -70);
    const student1 = await speaker('s1', -10);
    const student2 = await speaker('s2', -40);
    await until(() => loudest.isForwarded(student1.producer.id) && !loudest.isForwarded(student2.producer.id), 'one student place');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [i, s1, s2] = await countOver([instructor, student1, student2], 1500);
    expect(i).toBeGreaterThan(40);
    expect(s1).toBeGreaterThan(40);
    expect(s2).toBe(0);
  });

  it('applies the limit per group: each breakout room has its own M loudest', async () => {
    const { loudest, speaker } = await room(1);
    for (const [peer, group] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b']] as const) loudest.setGroup(peer, group);
    const a1 = await speaker('a1', -10);
    const a2 = await speaker('a2', -40);
    const b1 = await speaker('b1', -60);
    await until(() => !loudest.isForwarded(a2.producer.id), 'a2 to wait');
    expect(loudest.isForwarded(a1.producer.id)).toBe(true);
    expect(loudest.isForwarded(b1.producer.id)).toBe(true);
  });
});
