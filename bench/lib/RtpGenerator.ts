// A plain-RTP publisher: VP8-shaped video at a target bitrate (frames split into ~1,100-byte packets,
// a key frame every second and on PLI/FIR) and 20 ms opus-shaped audio. Payloads are filler apart from
// the VP8 descriptor and the bench marker; an SFU forwards them without decoding, as it would real media.
import dgram from 'node:dgram';
import {
  AUDIO_SSRC,
  OPUS_PAYLOAD_TYPE,
  OPUS_MARKER_OFFSET,
  VIDEO_SSRC,
  VP8_MARKER_OFFSET,
  VP8_PAYLOAD_TYPE,
  writeMarker,
  writeRtpHeader,
  writeVp8Start,
} from './rtpPackets.js';

/** Where one stream goes. */
export interface RtpTarget {
  host: string;
  port: number;
}

/** Generator settings. */
export interface RtpGeneratorOptions {
  video: RtpTarget;
  audio: RtpTarget;
  videoBitrate?: number;
  fps?: number;
  /** Opus payload bytes per 20 ms packet (160 = 64 kbit/s). */
  audioBytes?: number;
  maxPacketPayload?: number;
  /**
   * Spread each frame's packets over half a frame interval, as a browser's pacer does, instead of
   * sending them back to back (the default, the harder case for an SFU's latency: every copy of
   * every packet of a frame queues behind the others in one worker).
   */
  paced?: boolean;
}

const RTP_HEADER = 12;

/** Sends the publisher's RTP until stopped; counts packets with one counter across both streams. */
export class RtpGenerator {
  readonly #socket: dgram.Socket;
  readonly #opts: Required<RtpGeneratorOptions>;
  #timer: NodeJS.Timeout | undefined;
  #counter = 0;
  #videoSeq = Math.floor(Math.random() * 0x10000);
  #audioSeq = Math.floor(Math.random() * 0x10000);
  #pictureId = 0;
  #frames = 0;
  #forceKeyFrame = true;
  #nextVideoNs = 0n;
  #nextAudioNs = 0n;
  #startNs = 0n;
  #bytesSent = 0;
  /** Paced video packets not yet due, in due order. */
  readonly #paced: { dueNs: bigint; send: () => void }[] = [];

  /** Bind a loopback socket; RTCP PLI/FIR received on it trigger a key frame. */
  static async create(options: RtpGeneratorOptions): Promise<RtpGenerator> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    socket.setSendBufferSize(4 * 1024 * 1024);
    return new RtpGenerator(socket, options);
  }

  private constructor(socket: dgram.Socket, options: RtpGeneratorOptions) {
    this.#socket = socket;
    this.#opts = { videoBitrate: 1_000_000, fps: 30, audioBytes: 160, maxPacketPayload: 1100, paced: false, ...options };
    socket.on('message', (msg) => {
      // RTCP PSFB (206) with FMT 1 (PLI) or 4 (FIR): the SFU asks for a key frame for a new subscriber.
      if (msg.length >= 8 && msg[1] === 206 && ((msg[0]! & 0x1f) === 1 || (msg[0]! & 0x1f) === 4)) this.#forceKeyFrame = true;
    });
  }

  /** The counter the next packet will carry. */
  get counter(): number {
    return this.#counter;
  }

  /** Packets sent per second (video + audio) at the configured rates. */
  get packetsPerSecond(): number {
    return this.#opts.fps * this.#packetsPerFrame() + 50;
  }

  /** Bits per second actually sent since start (RTP payload + header, no IP/UDP). */
  get sentBitrate(): number {
    const seconds = Number(process.hrtime.bigint() - this.#startNs) / 1e9;
    return seconds > 0 ? (this.#bytesSent * 8) / seconds : 0;
  }

  /** Start sending. */
  start(): void {
    if (this.#timer) return;
    this.#startNs = process.hrtime.bigint();
    this.#nextVideoNs = this.#startNs;
    this.#nextAudioNs = this.#startNs;
    this.#timer = setInterval(() => this.#tick(), 2);
  }

  /** Stop sending and close the socket. Idempotent. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      this.#socket.close();
    } catch {
      // already closed
    }
  }

  #packetsPerFrame(): number {
    return Math.ceil(this.#opts.videoBitrate / 8 / this.#opts.fps / this.#opts.maxPacketPayload);
  }

  #tick(): void {
    const now = process.hrtime.bigint();
    const frameNs = BigInt(Math.round(1e9 / this.#opts.fps));
    while (this.#nextVideoNs <= now) {
      this.#sendVideoFrame(this.#nextVideoNs, frameNs / 2n);
      this.#nextVideoNs += frameNs;
    }
    while (this.#paced.length > 0 && this.#paced[0]!.dueNs <= now) this.#paced.shift()!.send();
    while (this.#nextAudioNs <= now) {
      this.#sendAudio();
      this.#nextAudioNs += 20_000_000n;
    }
  }

  #sendVideoFrame(startNs: bigint, spreadNs: bigint): void {
    const { videoBitrate, fps, video, paced } = this.#opts;
    const keyFrame = this.#forceKeyFrame || this.#frames % fps === 0;
    this.#forceKeyFrame = false;
    const packets = this.#packetsPerFrame();
    const payloadBytes = Math.round(videoBitrate / 8 / fps / packets);
    const timestamp = (this.#frames * Math.round(90000 / fps)) >>> 0;
    this.#pictureId = (this.#pictureId + 1) & 0x7fff;
    const pictureId = this.#pictureId;
    for (let i = 0; i < packets; i++) {
      const send = () => {
        const buf = Buffer.alloc(RTP_HEADER + payloadBytes, 0x5a);
        writeRtpHeader(buf, VP8_PAYLOAD_TYPE, i === packets - 1, this.#videoSeq++, timestamp, VIDEO_SSRC);
        writeVp8Start(buf, RTP_HEADER, i === 0, keyFrame, pictureId);
        writeMarker(buf, RTP_HEADER + VP8_MARKER_OFFSET, process.hrtime.bigint(), this.#counter++);
        this.#send(buf, video.port, video.host);
      };
      if (paced && i > 0) this.#paced.push({ dueNs: startNs + (spreadNs * BigInt(i)) / BigInt(packets), send });
      else send();
    }
    this.#frames++;
  }

  #sendAudio(): void {
    const { audioBytes, audio } = this.#opts;
    const buf = Buffer.alloc(RTP_HEADER + audioBytes, 0xa5);
    const timestamp = (Number((this.#nextAudioNs - this.#startNs) / 20_000_000n) * 960) >>> 0;
    writeRtpHeader(buf, OPUS_PAYLOAD_TYPE, false, this.#audioSeq++, timestamp, AUDIO_SSRC);
    buf[RTP_HEADER] = 0xfc; // opus TOC: CELT FB 20 ms, stereo=0, one frame
    writeMarker(buf, RTP_HEADER + OPUS_MARKER_OFFSET, process.hrtime.bigint(), this.#counter++);
    this.#send(buf, audio.port, audio.host);
  }

  #send(buf: Buffer, port: number, host: string): void {
    this.#bytesSent += buf.length;
    this.#socket.send(buf, port, host);
  }
}
