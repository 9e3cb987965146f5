// A lossy network path on loopback, where netem is not available: a UDP relay in front of one media
// port that drops every Nth RTP/RTCP packet in each direction. ICE, STUN and DTLS pass untouched, so
// the call connects as usual and only media sees the loss (what a congested campus Wi-Fi does).
// Each client address gets its own socket towards the server, as a NAT would, so the SFU's ICE-lite
// answers reach the right transport.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** Packets seen and dropped in one direction. */
export interface RelayCounts {
  media: number;
  dropped: number;
}

/** RTP and RTCP start with version 2 (RFC 7983 demultiplexing: first byte 128-191). */
const isRtpOrRtcp = (packet: Buffer): boolean => packet.length > 0 && packet[0]! >= 128 && packet[0]! <= 191;

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return socket;
}

export class LossyUdpRelay {
  /** Client -> server. */
  readonly upstream: RelayCounts = { media: 0, dropped: 0 };
  /** Server -> client. */
  readonly downstream: RelayCounts = { media: 0, dropped: 0 };
  readonly #front: Socket;
  // A promise per client, so packets arriving while its socket binds do not bind a second one.
  readonly #toServer = new Map<string, Promise<Socket>>();
  readonly #serverPort: number;
  readonly #dropEvery: number;
  /** While true every packet, ICE and DTLS included, is dropped both ways (a dead Wi-Fi). */
  #blackHole = false;
  /** Packets dropped while black-holed. */
  blackHoled = 0;

  /** Relay to 127.0.0.1:serverPort, dropping every `dropEvery`-th media packet each way (20 = 5%). */
  static async start(serverPort: number, dropEvery: number): Promise<LossyUdpRelay> {
    return new LossyUdpRelay(await bound(), serverPort, dropEvery);
  }

  private constructor(front: Socket, serverPort: number, dropEvery: number) {
    this.#front = front;
    this.#serverPort = serverPort;
    this.#dropEvery = dropEvery;
    front.on('message', (packet, from) => void this.#fromClient(packet, from));
  }

  /** The port clients should send to instead of the server's. */
  get port(): number {
    return this.#front.address().port;
  }

  /** Drop everything for `ms` milliseconds, then relay as before. */
  async blackHole(ms: number): Promise<void> {
    this.#blackHole = true;
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.#blackHole = false;
  }

  #passes(packet: Buffer, counts: RelayCounts): boolean {
    if (this.#blackHole) {
      this.blackHoled += 1;
      return false;
    }
    if (!isRtpOrRtcp(packet)) return true;
    counts.media += 1;
    if (counts.media % this.#dropEvery !== 0) return true;
    counts.dropped += 1;
    return false;
  }

  async #fromClient(packet: Buffer, from: RemoteInfo): Promise<void> {
    const key = `${from.address}:${from.port}`;
    let socket = this.#toServer.get(key);
    if (!socket) {
      socket = bound().then((s) => {
        s.on('message', (reply) => {
          if (this.#passes(reply, this.downstream)) this.#front.send(reply, from.port, from.address);
        });
        return s;
      });
      this.#toServer.set(key, socket);
    }
    const toServer = await socket;
    if (this.#passes(packet, this.upstream)) toServer.send(packet, this.#serverPort, '127.0.0.1');
  }

  async close(): Promise<void> {
    this.#front.close();
    for (const socket of await Promise.all(this.#toServer.values())) socket.close();
    this.#toServer.clear();
  }
}
