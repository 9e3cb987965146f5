// The sink thread: counts RTP arriving from the SFU under test, either on plain UDP sockets (SFU
// PlainTransport consumers point at them) or through werift WebRTC peers (real subscribers: ICE,
// DTLS, SRTP). Runs on its own thread so counting never waits for the main thread's work.
import dgram from 'node:dgram';
import { LatencyHistogram } from './LatencyHistogram.js';
import { readMarker, rtpPayloadOffset } from './rtpPackets.js';
import { gathered, loadWerift, loopbackPeerConnection, type WeriftModule, type WeriftPeerConnection } from './werift.js';
import type { SinkReport, SinkRequest } from './sinkProtocol.js';
import { serveRequests } from './thread.js';

const sockets: dgram.Socket[] = [];
const peers: WeriftPeerConnection[] = [];
let werift: WeriftModule | undefined;
let windowStart = Number.MAX_SAFE_INTEGER;
let windowEnd = Number.MAX_SAFE_INTEGER;
let received = 0;
let histogram = new LatencyHistogram();
let perStream = new Map<number, number>();

function account(ssrc: number, buf: Buffer, payloadStart: number, payloadEnd: number): void {
  const marker = readMarker(buf, payloadStart, payloadEnd);
  if (!marker || marker.counter < windowStart || marker.counter >= windowEnd) return;
  const now = process.hrtime.bigint();
  received++;
  histogram.record(Number(now - marker.sentNs));
  perStream.set(ssrc, (perStream.get(ssrc) ?? 0) + 1);
}

async function openPlain(count: number): Promise<{ ports: number[]; recvBufferBytes: number }> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    socket.on('message', (msg) => {
      const offset = rtpPayloadOffset(msg);
      if (offset > 0) account(msg.readUInt32BE(8), msg, offset, msg.length);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    sockets.push(socket);
    ports.push(socket.address().port);
  }
  return { ports, recvBufferBytes: recvBufferBytes() };
}

function recvBufferBytes(): number {
  return sockets[0]?.getRecvBufferSize() ?? 0;
}

async function subscribe(offer: string): Promise<string> {
  werift ??= await loadWerift();
  const pc = loopbackPeerConnection(werift);
  peers.push(pc);
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => account(rtp.header.ssrc, rtp.payload, 0, rtp.payload.length));
  });
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  await gathered(pc);
  return pc.localDescription?.sdp ?? answer.sdp;
}

function report(): SinkReport {
  const counts = [...perStream.values()];
  return {
    received,
    streams: counts.length,
    minPerStream: counts.length ? Math.min(...counts) : 0,
    maxPerStream: counts.length ? Math.max(...counts) : 0,
    histogram: histogram.counts,
    connectedPeers: peers.filter((p) => p.connectionState === 'connected').length,
    recvBufferBytes: recvBufferBytes(),
    srtpFailures: 0,
  };
}

async function handle(request: SinkRequest): Promise<unknown> {
  switch (request.op) {
    case 'openPlain':
      return openPlain(request.sockets);
    case 'subscribe':
      return subscribe(request.offer);
    case 'window':
      windowStart = request.start;
      windowEnd = request.end;
      received = 0;
      histogram = new LatencyHistogram();
      perStream = new Map();
      return null;
    case 'report':
      return report();
    case 'close':
      for (const s of sockets.splice(0)) s.close();
      await Promise.allSettled(peers.splice(0).map((p) => p.close()));
      return null;
  }
}

serveRequests(handle);
