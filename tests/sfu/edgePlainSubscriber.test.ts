// The cluster fan-out bench's edge half (bench/cluster/edgeSide.ts), with real parts: two Sfus (a
// home and an edge, one mediasoup worker each), the bench's RTP generator publishing into the home's
// room through the product's PlainPublisher, and the room's pipe to the edge opened as the product
// opens it for a participant placed there (RoomMedia.addPeer with an edge place -> EdgePeerMedia ->
// RemotePipe -> EdgeRoom, SRTP and RTX on both ends). The link between the two Sfus is in-process
// here (the bench and tests/cluster/edge.test.ts run it over the signed control channel). The
// bench's edge subscribers must be the product's PlainSubscriber on the EdgeRoom's own router,
// consuming the piped tracks, and SRTP must reach a socket of this test.
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { EdgeLink, EdgeRoom, PipeListen, Sfu } from '../../sfu/index.js';
import { cleanupAfterEach, startTestSfu, waitFor } from '../helpers/testSfu.js';
import { publishGenerator } from '../../bench/lectern/LecternFanout.js';
import { RtpGenerator } from '../../bench/lib/RtpGenerator.js';
import { MARKER_MAGIC } from '../../bench/lib/rtpPackets.js';
import { EdgeSide } from '../../bench/cluster/edgeSide.js';

const cleanups = cleanupAfterEach();
const HOME_PIPES: PipeListen = { ip: '127.0.0.1', portMin: 46000, portMax: 46499 };
const EDGE_PIPES: PipeListen = { ip: '127.0.0.1', portMin: 46500, portMax: 46999 };

/** An EdgeLink straight onto an EdgeRoom of another Sfu in this process (no control channel). */
function inProcessLink(edgeSfu: Sfu, room: string): EdgeLink {
  let edge: Promise<EdgeRoom> | undefined;
  const at = () => (edge ??= edgeSfu.createEdgeRoom(room, EDGE_PIPES));
  return {
    nodeId: 'edge',
    openPipe: async (pipeId, home) => (await at()).openPipe(pipeId, home),
    produce: async (pipeId, track) => (await at()).produce(pipeId, track),
    trackState: async (trackId, state) => (await at()).trackState(trackId, state),
    closePipe: async (pipeId) => (await at()).closePipe(pipeId),
    pipes: async () => (await at()).pipes(),
    createTransport: async (subscriberId, due) => (await at()).createTransport(subscriberId, due),
    connectTransport: async (transportId, dtls) => (await at()).connectTransport(transportId, dtls),
    restartIce: async (transportId) => (await at()).restartIce(transportId),
    consume: async (transportId, trackId, caps) => (await at()).consume(transportId, trackId, caps),
    consumer: async (consumerId, action) => (await at()).consumer(consumerId, action),
    preferLayers: async (consumerId, s, t) => (await at()).preferLayers(consumerId, s, t),
    closeSubscriber: async (subscriberId) => (await at()).closeSubscriber(subscriberId),
  };
}

describe('the cluster fan-out bench: plain subscribers on an edge room', () => {
  it("receive the home's tracks over the product's SRTP pipe, encrypted, on the EdgeRoom's router", async () => {
    const homeSfu = await startTestSfu(cleanups);
    const edgeSfu = await startTestSfu(cleanups);
    const edgeSide = new EdgeSide(edgeSfu, '127.0.0.1');
    const room = await homeSfu.createRoomMedia('lecture');
    const { target } = await publishGenerator(room);
    const generator = await RtpGenerator.create({ video: target, audio: target, videoBitrate: 300_000 });
    generator.start();
    cleanups.push(() => generator.close());

    // Nothing piped yet: the bench must say so rather than subscribe to nothing.
    await expect(edgeSide.addSubscribers({ op: 'addEdgeSubscribers', count: 1, prefix: 'e', ports: [9], suite: 'AEAD_AES_256_GCM' })).rejects.toThrow(/found 0/);

    const opener = room.addPeer('pipe-opener', undefined, { link: inProcessLink(edgeSfu, 'lecture'), pipeListen: HOME_PIPES });
    await opener.createTransport('recv');
    opener.receiveWith(room.rtpCapabilities);
    await room.catchUp('pipe-opener');
    expect(opener.subscriptions.size).toBe(2);
    const [pipe] = await room.pipes();
    expect(pipe?.home).toMatchObject({ srtp: true, rtx: true, producers: 2 });
    expect(pipe?.edge).toMatchObject({ srtp: true, rtx: true, producers: 2 });
    expect(edgeSide.routersSeen).toBe(1);

    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => {
      socket.close();
    });
    const packets = new Map<number, number>();
    const magic = Buffer.alloc(4);
    magic.writeUInt32BE(MARKER_MAGIC);
    let plaintext = false;
    socket.on('message', (msg) => {
      if (msg.length < 12 || (msg[1]! >= 192 && msg[1]! <= 223)) return; // RTCP
      packets.set(msg.readUInt32BE(8), (packets.get(msg.readUInt32BE(8)) ?? 0) + 1);
      if (msg.includes(magic)) plaintext = true;
    });
    const added = await edgeSide.addSubscribers({ op: 'addEdgeSubscribers', count: 2, prefix: 'e', ports: [socket.address().port], suite: 'AEAD_AES_256_GCM' });
    expect(added.here).toBe(2);
    expect(added.streams).toHaveLength(4);
    expect(new Set(added.streams.map((s) => s.ssrc)).size).toBe(4);
    // Paused until resumed (the sink has no key yet): nothing may arrive before.
    await new Promise((r) => setTimeout(r, 300));
    expect(packets.size).toBe(0);
    await edgeSide.resumeAll();
    await waitFor('every edge subscription to receive', () => added.streams.every((s) => (packets.get(s.ssrc) ?? 0) >= 10), 15_000);
    expect(plaintext).toBe(false);
    // On the edge's worker: the opener's two (paused) consumers and the subscribers' four.
    expect(edgeSfu.pool.workers[0]!.consumers).toBe(6);
  });
});
