// A seminar participant without a browser: it joins over the real signalling protocol, sends real
// VP8 (vp8Clip.ts) and opus silence over a werift WebRTC send transport, and receives everybody
// over a werift receive transport, counting packets and sequence gaps per stream. Twelve Chromium
// pages do not fit on 2 cores (each page encodes and decodes), so the seminar mixes a few browsers,
// which report what a person sees, with bots, which make the SFU carry the full all-to-all load.
import type { mediasoupTypes as types } from '../../sfu/index.js';
import type { NotificationData } from '../../protocol/index.js';
import { SignallingClient } from '../../tests/helpers/SignallingClient.js';
import {
  MID_URI,
  answerDtlsParameters,
  consumerOffer,
  offeredSections,
  producerAnswer,
  type OfferConsumer,
  type OfferTransport,
  type OfferedSection,
} from '../lectern/sdp.js';
import { gathered, loopbackPeerConnection, type WeriftModule, type WeriftPeerConnection } from './werift.js';
import { vp8Payloads, type Vp8Clip } from './vp8Clip.js';
import { writeRtpHeader } from './rtpPackets.js';

// A 20 ms opus frame of silence (TOC: CELT fullband 20 ms, mono, one frame).
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
/** consumerAdded notifications arriving this close together are set up in one renegotiation. */
const BATCH_MS = 30;

type Transport = OfferTransport & { id: string };

/** What a bot received, per kind, since the last `resetCounts`. */
export interface BotCounts {
  video: { received: number; lost: number; streams: number };
  audio: { received: number; lost: number; streams: number };
}

/** What a bot sends and how it signs in; by default camera and microphone, as a guest. */
export interface BotOptions {
  /** A signed room link (role instructor or student); without one the bot is a guest. */
  token?: string;
  camera?: boolean;
  microphone?: boolean;
}

/** One consumer as the bot sees it: what it received since the last reset. */
export interface BotConsumerCount {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  received: number;
  lost: number;
  /** The server said consumerPaused (and not consumerResumed since). */
  pausedByServer: boolean;
}

const noCounts = (): BotCounts => ({ video: { received: 0, lost: 0, streams: 0 }, audio: { received: 0, lost: 0, streams: 0 } });

/** Several bots' counts added up. */
export function sumBotCounts(all: BotCounts[]): BotCounts {
  const total = noCounts();
  for (const c of all) {
    for (const kind of ['video', 'audio'] as const) {
      total[kind].received += c[kind].received;
      total[kind].lost += c[kind].lost;
      total[kind].streams += c[kind].streams;
    }
  }
  return total;
}

/** Per-SSRC sequence tracking: received count and the highest extended sequence number. */
class StreamCounter {
  received = 0;
  #first = -1;
  #highest = -1;
  #cycles = 0;
  #last = -1;

  add(seq: number): void {
    if (this.#last >= 0 && seq < 0x4000 && this.#last > 0xc000) this.#cycles += 0x10000;
    this.#last = seq;
    const extended = this.#cycles + seq;
    if (this.#first < 0) this.#first = extended;
    this.#highest = Math.max(this.#highest, extended);
    this.received++;
  }

  get lost(): number {
    return this.#first < 0 ? 0 : Math.max(0, this.#highest - this.#first + 1 - this.received);
  }

  reset(): void {
    this.received = 0;
    this.#first = -1;
    this.#highest = -1;
  }
}

export class BotParticipant {
  readonly name: string;
  readonly #client: SignallingClient;
  readonly #clip: Vp8Clip;
  readonly #recvTransport: Transport;
  readonly #sendPc: WeriftPeerConnection;
  readonly #recvPc: WeriftPeerConnection;
  readonly #consumers: (OfferConsumer & { kind: 'audio' | 'video' })[] = [];
  readonly #counters = new Map<number, { kind: 'audio' | 'video'; counter: StreamCounter }>();
  /** Per consumer id: its producer and the SSRC it arrives with. */
  readonly #consumerInfo = new Map<string, { producerId: string; kind: 'audio' | 'video'; ssrc: number | undefined }>();
  readonly #pausedByServer = new Set<string>();
  /** Consumers the server closed (consumerClosed): e.g. off the page when a new view needs the slot. */
  readonly #closedByServer = new Set<string>();
  readonly #producers: { id: string; kind: 'audio' | 'video' }[] = [];
  readonly #session = { id: Date.now(), version: 0 };
  #pending: NotificationData<'consumerAdded'>[] = [];
  #batch: Promise<void> = Promise.resolve();
  #recvConnected = false;
  #resumed = 0;
  #sending: NodeJS.Timeout | undefined;
  #closed = false;
  /** Errors in the background (renegotiations, resumes): the scenario reports them. */
  readonly errors: string[] = [];

  /** Join `room` at `wsUrl`, start sending, and take every consumer the server offers. */
  static async join(werift: WeriftModule, wsUrl: string, room: string, name: string, clip: Vp8Clip, options: BotOptions = {}): Promise<BotParticipant> {
    const client = await SignallingClient.connect(wsUrl);
    let bot: BotParticipant | undefined;
    try {
      const joined = await client.ok('join', { room, displayName: name, ...(options.token ? { token: options.token } : {}) });
      const send = (await client.ok('createTransport', { direction: 'send' })) as unknown as Transport;
      const recv = (await client.ok('createTransport', { direction: 'recv' })) as unknown as Transport;
      bot = new BotParticipant(werift, client, name, clip, recv);
      const kinds = [...(options.camera !== false ? (['video'] as const) : []), ...(options.microphone !== false ? (['audio'] as const) : [])];
      // A participant with camera and microphone off opens its send transport (as the page does)
      // but never connects it: there is nothing to send.
      if (kinds.length > 0) await bot.#startSending(send, kinds);
      await client.ok('ready', { rtpCapabilities: botCapabilities(joined.routerRtpCapabilities as types.RtpCapabilities) });
      return bot;
    } catch (error) {
      // Leaving closes the bot's media on the server; its werift peers go too.
      if (bot) await bot.close();
      else client.socket.close();
      throw error;
    }
  }

  private constructor(werift: WeriftModule, client: SignallingClient, name: string, clip: Vp8Clip, recvTransport: Transport) {
    this.#client = client;
    this.name = name;
    this.#clip = clip;
    this.#recvTransport = recvTransport;
    this.#sendPc = loopbackPeerConnection(werift);
    this.#recvPc = loopbackPeerConnection(werift);
    // werift fires onTrack again for existing tracks on every renegotiation: count each track once.
    const counted = new WeakSet<object>();
    this.#recvPc.onTrack.subscribe((track) => {
      if (counted.has(track)) return;
      counted.add(track);
      track.onReceiveRtp.subscribe((rtp) => this.#counters.get(rtp.header.ssrc)?.counter.add(rtp.header.sequenceNumber));
    });
    client.onNotification('consumerAdded', (data) => this.#onConsumerAdded(data));
    client.onNotification('consumerPaused', ({ consumerId }) => this.#pausedByServer.add(consumerId));
    client.onNotification('consumerResumed', ({ consumerId }) => this.#pausedByServer.delete(consumerId));
    client.onNotification('consumerClosed', ({ consumerId }) => this.#closedByServer.add(consumerId));
  }

  /** The receive transport's id on the server. */
  get recvTransportId(): string {
    return this.#recvTransport.id;
  }

  /** What this bot produces (ids from the server's produce replies). */
  get producers(): { id: string; kind: 'audio' | 'video' }[] {
    return [...this.#producers];
  }

  /** Every consumer's packets and gaps since the last reset. */
  consumerCounts(): BotConsumerCount[] {
    return [...this.#consumerInfo].map(([consumerId, info]) => {
      const counter = info.ssrc === undefined ? undefined : this.#counters.get(info.ssrc)?.counter;
      return {
        consumerId,
        producerId: info.producerId,
        kind: info.kind,
        received: counter?.received ?? 0,
        lost: counter?.lost ?? 0,
        pausedByServer: this.#pausedByServer.has(consumerId),
      };
    });
  }

  /**
   * Tell the server which video tracks this participant's screen shows (a gallery page): it holds
   * video consumers for at most rooms.maxVideoConsumers of them and pauses the rest. Returns the
   * view as the server applied it (capped), or its refusal.
   */
  async setView(video: string[]): Promise<{ ok: true; applied: string[] } | { ok: false; error: string }> {
    const reply = await this.#client.send('setView', { video });
    return reply.ok ? { ok: true, applied: (reply.data as { video: string[] }).video } : { ok: false, error: `${reply.error.code} ${reply.error.message}` };
  }

  /** Consumers this bot was given so far. */
  get consumerCount(): number {
    return this.#consumers.length;
  }

  /** The receive PeerConnection's state, and how many consumers were resumed. */
  get receiveState(): string {
    return `${this.#recvPc.connectionState}, ${this.#resumed} resumed, ${this.#closedByServer.size} closed by the server`;
  }

  /** Packets and losses per kind since the last reset. */
  counts(): BotCounts {
    const out = noCounts();
    for (const { kind, counter } of this.#counters.values()) {
      out[kind].received += counter.received;
      out[kind].lost += counter.lost;
      if (counter.received > 0) out[kind].streams++;
    }
    return out;
  }

  resetCounts(): void {
    for (const { counter } of this.#counters.values()) counter.reset();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sending);
    this.#client.socket.close();
    await Promise.allSettled([this.#sendPc.close(), this.#recvPc.close()]);
  }

  // Sending: werift offers (sendonly audio + video), we answer for mediasoup (ICE-lite, DTLS client),
  // then produce with the SSRCs and payload types werift chose.
  async #startSending(transport: Transport, kinds: readonly ('video' | 'audio')[]): Promise<void> {
    const pc = this.#sendPc;
    const video = kinds.includes('video') ? pc.addTransceiver('video', { direction: 'sendonly' }) : undefined;
    const audio = kinds.includes('audio') ? pc.addTransceiver('audio', { direction: 'sendonly' }) : undefined;
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const offer = pc.localDescription!.sdp;
    const sections = offeredSections(offer);
    await pc.setRemoteDescription({ type: 'answer', sdp: producerAnswer(transport, sections) });
    const fingerprint = /a=fingerprint:(\S+) (\S+)/.exec(offer);
    if (!fingerprint) throw new Error('werift offer has no fingerprint');
    await this.#client.ok('connectTransport', {
      transportId: transport.id,
      dtlsParameters: { role: 'server', fingerprints: [{ algorithm: fingerprint[1], value: fingerprint[2] }] },
    });
    for (const section of sections) {
      const produced = await this.#client.ok('produce', {
        transportId: transport.id,
        kind: section.kind,
        source: section.kind === 'video' ? 'camera' : 'microphone',
        rtpParameters: producerRtpParameters(section),
      });
      this.#producers.push({ id: produced.producerId as string, kind: section.kind });
    }
    await connected(pc, 10_000);
    const videoSection = sections.find((s) => s.kind === 'video');
    const audioSection = sections.find((s) => s.kind === 'audio');
    const frameTicks = 90000 / this.#clip.fps;
    let frame = 0;
    let videoSeq = 0;
    let audioSeq = 0;
    let audioTicks = 0;
    let nextFrameAt = performance.now();
    let nextAudioAt = performance.now();
    this.#sending = setInterval(() => {
      const now = performance.now();
      while (video && videoSection && nextFrameAt <= now) {
        const encoded = this.#clip.frames[frame % this.#clip.frames.length]!;
        const payloads = vp8Payloads(encoded, frame & 0x7fff);
        payloads.forEach((payload, i) => {
          const packet = Buffer.alloc(12 + payload.length);
          writeRtpHeader(packet, videoSection.payloadType, i === payloads.length - 1, videoSeq++, frame * frameTicks, videoSection.ssrc);
          payload.copy(packet, 12);
          void video.sender.sendRtp(packet).catch(() => undefined);
        });
        frame++;
        nextFrameAt += 1000 / this.#clip.fps;
      }
      while (audio && audioSection && nextAudioAt <= now) {
        const packet = Buffer.alloc(12 + OPUS_SILENCE.length);
        writeRtpHeader(packet, audioSection.payloadType, false, audioSeq++, audioTicks, audioSection.ssrc);
        OPUS_SILENCE.copy(packet, 12);
        void audio.sender.sendRtp(packet).catch(() => undefined);
        audioTicks += 960;
        nextAudioAt += 20;
      }
    }, 10);
  }

  // Receiving: consumerAdded notifications are gathered for BATCH_MS, then one new offer carries
  // every consumer so far; the first answer connects the transport. Then each new one is resumed.
  #onConsumerAdded(data: NotificationData<'consumerAdded'>): void {
    this.#pending.push(data);
    if (this.#pending.length > 1) return;
    setTimeout(() => {
      const added = this.#pending;
      this.#pending = [];
      this.#batch = this.#batch.then(() => this.#setUpConsumers(added)).catch((error: unknown) => {
        this.errors.push(`${this.name}: ${(error as Error).message}`);
      });
    }, BATCH_MS);
  }

  async #setUpConsumers(added: NotificationData<'consumerAdded'>[]): Promise<void> {
    if (this.#closed) return;
    for (const data of added) {
      const rtpParameters = data.rtpParameters as unknown as types.RtpParameters;
      this.#consumers.push({ id: data.consumerId, kind: data.kind, rtpParameters });
      const ssrc = rtpParameters.encodings?.[0]?.ssrc;
      this.#consumerInfo.set(data.consumerId, { producerId: data.producerId, kind: data.kind, ssrc });
      if (ssrc !== undefined) this.#counters.set(ssrc, { kind: data.kind, counter: new StreamCounter() });
    }
    this.#session.version++;
    const pc = this.#recvPc;
    await pc.setRemoteDescription({ type: 'offer', sdp: consumerOffer(this.#recvTransport, this.#consumers, this.#session) });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (!this.#recvConnected) {
      await gathered(pc);
      this.#recvConnected = true;
      await this.#client.ok('connectTransport', {
        transportId: this.#recvTransport.id,
        dtlsParameters: { ...answerDtlsParameters(pc.localDescription?.sdp ?? answer.sdp) },
      });
    }
    // One at a time, as the page attaches each track. The server may close a consumer meanwhile
    // (a new view needing its slot): its resume then fails, and the others must still be resumed.
    for (const data of added) {
      if (this.#closedByServer.has(data.consumerId)) continue;
      const reply = await this.#client.send('resumeConsumer', { consumerId: data.consumerId });
      if (reply.ok) this.#resumed++;
      else if (!this.#closedByServer.has(data.consumerId)) this.errors.push(`${this.name}: resumeConsumer ${data.consumerId}: ${reply.error.code} ${reply.error.message}`);
    }
  }
}

/** What a bot can receive: opus and VP8 (no RTX), with the mid extension only. */
function botCapabilities(router: types.RtpCapabilities): Record<string, unknown> {
  return {
    codecs: (router.codecs ?? []).filter((c) => c.mimeType === 'audio/opus' || c.mimeType === 'video/VP8'),
    headerExtensions: (router.headerExtensions ?? []).filter((e) => e.uri === MID_URI),
  };
}

function connected(pc: WeriftPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      const ice = (pc as unknown as { iceConnectionState?: string }).iceConnectionState;
      reject(new Error(`send transport did not connect (connection ${pc.connectionState}, ICE ${ice ?? '?'})`));
    }, timeoutMs);
    pc.connectionStateChange.subscribe((s) => {
      if (s !== 'connected') return;
      clearTimeout(timer);
      resolve();
    });
  });
}

function producerRtpParameters(section: OfferedSection): Record<string, unknown> {
  const codec =
    section.kind === 'video'
      ? { mimeType: 'video/VP8', payloadType: section.payloadType, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }
      : { mimeType: 'audio/opus', payloadType: section.payloadType, clockRate: 48000, channels: 2 };
  return {
    mid: section.mid,
    codecs: [codec],
    headerExtensions: section.midExtensionId ? [{ uri: MID_URI, id: section.midExtensionId }] : [],
    encodings: [{ ssrc: section.ssrc }],
    rtcp: { cname: section.cname, reducedSize: true },
  };
}
