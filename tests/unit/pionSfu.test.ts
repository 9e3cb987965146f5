// The bench's pion SFU (bench/pion): the build script builds it offline from Debian's Go sources
// (and says what is missing when it cannot), and the real binary forwards a publisher's plain RTP
// to a real WebRTC subscriber (werift: ICE, DTLS, SRTP) untouched, in both NACK modes, passing the
// subscriber's PLI back to the publisher. Needs the Debian packages bench/setup.sh installs
// (golang-go golang-github-pion-webrtc.v3-dev); run inside scripts/in-netns.sh (werift's sockets
// bind the wildcard address, so only loopback may exist).
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PionServer, pionSfuBinary, type PionNackMode } from '../../bench/pion/PionServer.js';
import { gathered, loadWerift, loopbackPeerConnection, type WeriftPeerConnection, type WeriftRtpPacket } from '../../bench/lib/werift.js';
import { readMarker, VIDEO_SSRC, VP8_PAYLOAD_TYPE, VP8_MARKER_OFFSET, writeMarker, writeRtpHeader, writeVp8Start } from '../../bench/lib/rtpPackets.js';

const BUILD_SCRIPT = new URL('../../bench/pion/build.sh', import.meta.url).pathname;
const goInstalled = existsSync('/usr/bin/go') && existsSync('/usr/share/gocode/src/github.com/pion/webrtc/go.mod');

/** What the test uses of werift beyond the bench's slice of its API: PLI, and RTCP NACK by hand. */
interface WeriftRtcp {
  GenericNack: new (props: { senderSsrc: number; mediaSourceSsrc: number; lost: number[] }) => unknown;
  RtcpTransportLayerFeedback: new (props: { feedback: unknown }) => unknown;
}
interface WeriftReceivers {
  getTransceivers(): { kind: string; receiver: { sendRtcpPLI(mediaSsrc: number): void; dtlsTransport: { sendRtcp(packets: unknown[]): Promise<unknown> } } }[];
}

describe.skipIf(!goInstalled)('bench pion SFU (golang-go + golang-github-pion-webrtc.v3-dev, from bench/setup.sh)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('build.sh builds an executable offline and answers from its cache the second time', () => {
    const first = pionSfuBinary();
    expect(statSync(first).mode & 0o111).not.toBe(0);
    const started = Date.now();
    const again = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(again.stdout.trim()).toBe(first);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 180_000);

  it('build.sh says which Debian package is missing when the Go sources are not there', () => {
    const result = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', env: { ...process.env, LECTERN_GOCODE: '/nonexistent/gocode' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('pion/webrtc sources missing under /nonexistent/gocode (apt-get install golang-github-pion-webrtc.v3-dev)');
  });

  it.each<PionNackMode>(['nack', 'no-nack'])('forwards plain RTP to a WebRTC subscriber untouched, passes PLI back, answers NACK only with the interceptors (%s)', async (mode) => {
    const server = await PionServer.create(mode);
    cleanups.push(() => server.close());
    const werift = await loadWerift();
    const pc: WeriftPeerConnection = loopbackPeerConnection(werift);
    cleanups.push(() => pc.close());
    const received: { kind: string; packet: WeriftRtpPacket }[] = [];
    pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((packet) => received.push({ kind: track.kind, packet })));
    let offeredVideoSsrc = 0;
    await server.subscribe(async (offer) => {
      offeredVideoSsrc = Number(/m=video[\s\S]*?a=ssrc:(\d+) /.exec(offer)?.[1]);
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      return pc.localDescription!.sdp;
    });

    // The publisher: VP8-shaped packets with the bench marker, until the subscriber has 30 of them.
    const publisher = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((resolve) => publisher.close(() => resolve())));
    const plis: Buffer[] = [];
    publisher.on('message', (msg) => msg[1] === 206 && (msg[0]! & 0x1f) === 1 && plis.push(msg));
    await new Promise<void>((resolve) => publisher.bind(0, '127.0.0.1', resolve));
    const sent = new Map<number, { seq: number; payload: Buffer }>();
    const deadline = Date.now() + 30_000;
    for (let counter = 0; received.length < 30 && Date.now() < deadline; counter++) {
      const packet = Buffer.alloc(12 + 200, 0xab);
      const seq = 1000 + counter;
      writeRtpHeader(packet, VP8_PAYLOAD_TYPE, true, seq, counter * 3000, VIDEO_SSRC);
      writeVp8Start(packet, 12, true, counter === 0, counter);
      writeMarker(packet, 12 + VP8_MARKER_OFFSET, process.hrtime.bigint(), counter);
      sent.set(counter, { seq, payload: packet.subarray(12) });
      publisher.send(packet, server.videoPort, '127.0.0.1');
      await sleep(10);
    }

    expect(received.length).toBeGreaterThanOrEqual(30);
    for (const { kind, packet } of received) {
      expect(kind).toBe('video');
      expect(packet.header.ssrc).toBe(offeredVideoSsrc);
      const marker = readMarker(packet.payload);
      expect(marker).toBeDefined();
      const original = sent.get(marker!.counter)!;
      expect(packet.header.sequenceNumber).toBe(original.seq);
      expect(Buffer.compare(packet.payload, original.payload)).toBe(0);
    }

    // A PLI from the subscriber reaches the publisher's socket (the SFU sends it where video came from).
    const video = (pc as unknown as WeriftReceivers).getTransceivers().find((t) => t.kind === 'video')!;
    for (let i = 0; i < 50 && plis.length === 0; i++) {
      if (i % 10 === 0) video.receiver.sendRtcpPLI(offeredVideoSsrc);
      await sleep(100);
    }
    expect(plis.length).toBeGreaterThan(0);

    // A NACK for a packet the subscriber already has: with pion's NACK interceptors the SFU resends it
    // from its per-subscriber buffer (on the media SSRC: pion 3.1 sends no RTX); without, nothing does.
    const rtcp = werift as unknown as WeriftRtcp;
    const nacked = received.at(-5)!.packet.header.sequenceNumber;
    const copies = () => received.filter((r) => r.packet.header.sequenceNumber === nacked).length;
    expect(copies()).toBe(1);
    const nack = new rtcp.RtcpTransportLayerFeedback({ feedback: new rtcp.GenericNack({ senderSsrc: 1, mediaSourceSsrc: offeredVideoSsrc, lost: [nacked] }) });
    for (let i = 0; i < 20 && copies() < 2; i++) {
      if (i % 5 === 0) await video.receiver.dtlsTransport.sendRtcp([nack]);
      await sleep(100);
    }
    expect(copies()).toBe(mode === 'nack' ? 2 : 1);
  }, 60_000);
});
