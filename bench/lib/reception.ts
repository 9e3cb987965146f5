// Reception per subscriber in the class scenario: what each bot received in the window next to what
// the server holds for it (its receive transport's ICE/DTLS state, its consumers, paused or not, and
// the packets each sent in the window). A subscriber that received nothing, or far less than the
// others, is flagged with that state, so the run says where its packets stopped instead of
// averaging it away.
import type { BotDetail } from './botThread.js';
import type { TransportState } from './lecternProcess.js';
import { quantile } from './stats.js';

/** A bot receiving less than this share of the median bot's packets is flagged. */
export const FAR_BELOW = 0.5;

export interface ConsumerReception {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  /** On the server, at the end of the window; undefined if the server has no such consumer. */
  paused: boolean | undefined;
  producerPaused: boolean | undefined;
  /** Packets the SFU sent on this consumer in the window, and the bot received from it. */
  sent: number;
  received: number;
  lost: number;
}

export interface Reception {
  name: string;
  received: number;
  lost: number;
  sent: number;
  videoStreams: number;
  audioStreams: number;
  /** The server's consumers on this bot's receive transport, all and those neither paused nor producer-paused. */
  videoConsumers: number;
  activeVideoConsumers: number;
  audioConsumers: number;
  activeAudioConsumers: number;
  iceState: string;
  dtlsState: string;
  /** werift's receive PeerConnection state and resumed consumers. */
  botReceive: string;
  /** Why this bot is flagged (received nothing / far below the others) and what the state says. */
  flag?: string;
  consumers: ConsumerReception[];
}

/** Join what the bots counted with what the server held, before and after the window. */
export function receptions(bots: BotDetail[], before: TransportState[], after: TransportState[]): Reception[] {
  const sentBefore = new Map(before.flatMap((t) => t.consumers.map((c) => [c.id, c.packets] as const)));
  const transports = new Map(after.map((t) => [t.id, t]));
  const out = bots.map((bot): Reception => {
    const transport = transports.get(bot.recvTransportId);
    const server = new Map((transport?.consumers ?? []).map((c) => [c.id, c]));
    const ids = new Set([...server.keys(), ...bot.perConsumer.map((c) => c.consumerId)]);
    const mine = new Map(bot.perConsumer.map((c) => [c.consumerId, c]));
    const consumers = [...ids].map((id): ConsumerReception => {
      const s = server.get(id);
      const b = mine.get(id);
      return {
        consumerId: id,
        producerId: s?.producerId ?? b?.producerId ?? '?',
        kind: s?.kind ?? b?.kind ?? 'video',
        paused: s?.paused,
        producerPaused: s?.producerPaused,
        sent: s ? s.packets - (sentBefore.get(id) ?? 0) : 0,
        received: b?.received ?? 0,
        lost: b?.lost ?? 0,
      };
    });
    const onServer = [...server.values()];
    const active = (kind: string) => onServer.filter((c) => c.kind === kind && !c.paused && !c.producerPaused).length;
    return {
      name: bot.name,
      received: bot.video.received + bot.audio.received,
      lost: bot.video.lost + bot.audio.lost,
      sent: consumers.reduce((a, c) => a + c.sent, 0),
      videoStreams: bot.video.streams,
      audioStreams: bot.audio.streams,
      videoConsumers: onServer.filter((c) => c.kind === 'video').length,
      activeVideoConsumers: active('video'),
      audioConsumers: onServer.filter((c) => c.kind === 'audio').length,
      activeAudioConsumers: active('audio'),
      iceState: transport?.iceState ?? 'no transport on the server',
      dtlsState: transport?.dtlsState ?? '-',
      botReceive: bot.receive,
      consumers,
    };
  });
  const median = quantile(out.map((r) => r.received), 0.5);
  for (const r of out) {
    // A whole stream missing is too small a share of a bot's packets to show in its total.
    const silent = r.consumers.filter((c) => c.paused === false && !c.producerPaused && c.received === 0);
    if (r.received === 0) r.flag = `received nothing; ${diagnose(r)}`;
    else if (r.received < FAR_BELOW * median) r.flag = `received ${r.received} packets, ${((r.received / median) * 100).toFixed(0)}% of the median bot's ${median}; ${diagnose(r)}`;
    else if (silent.length > 0) r.flag = `${silent.length} running consumer(s) delivered nothing (${silent.map((c) => `${c.kind} ${c.consumerId}: SFU sent ${c.sent}`).join(', ')}); ${diagnose(r)}`;
  }
  return out;
}

/** Where the packets of a flagged subscriber stopped, as far as the state shows. */
function diagnose(r: Reception): string {
  const state = `transport ICE ${r.iceState}, DTLS ${r.dtlsState}; bot receive PC ${r.botReceive}`;
  if (r.consumers.length === 0) return `no consumers at all (${state})`;
  const paused = r.consumers.filter((c) => c.paused).length;
  const producerPaused = r.consumers.filter((c) => c.producerPaused).length;
  const unknown = r.consumers.filter((c) => c.paused === undefined).length;
  const consumers =
    `${r.consumers.length} consumers (${r.videoConsumers} video, ${r.audioConsumers} audio on the server), ${paused} paused, ${producerPaused} producer-paused` +
    (unknown ? `, ${unknown} the server no longer has` : '');
  if (r.sent === 0) return `the SFU sent it nothing in the window: ${consumers}; ${state}`;
  return `the SFU sent ${r.sent} packets, the bot counted ${r.received}: ${consumers}; ${state}`;
}
