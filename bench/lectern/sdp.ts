// The SDP a WebRTC subscriber needs to receive from a mediasoup WebRtcTransport, written by hand
// (the job mediasoup-client's RemoteSdp does in a browser): mediasoup offers (ICE-lite, DTLS actpass,
// sendonly m-lines with the consumers' SSRCs), the subscriber answers, and the answer's fingerprint
// and DTLS role connect the transport. The other way, for the seminar's bots that send: the peer
// offers, and producerAnswer answers for mediasoup. Takes plain data, so it serves both mediasoup's
// own objects (the fan-out) and what a participant learns over signalling (the bots).
import type { mediasoupTypes as types } from '../../sfu/index.js';

/** What the offer needs of the transport (a mediasoup WebRtcTransport, or a createTransport reply). */
export interface OfferTransport {
  iceParameters: { usernameFragment: string; password: string };
  iceCandidates: { foundation: string; priority: number; ip?: string; address?: string; protocol: string; port: number }[];
  dtlsParameters: { fingerprints: { algorithm: string; value: string }[] };
}

/** What the offer needs of a consumer (a mediasoup Consumer, or a consumerAdded notification). */
export interface OfferConsumer {
  id: string;
  kind: string;
  rtpParameters: types.RtpParameters;
}

/** The mid header extension: how the SFU and the peer tell bundled m-sections apart. */
export const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';

/** Session lines for mediasoup's side of a bundle: ICE-lite, one fingerprint. */
function sessionLines(transport: OfferTransport, mids: string[], session: { id: number; version: number }): string[] {
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256');
  if (!fingerprint) throw new Error('transport has no sha-256 fingerprint');
  return [
    'v=0',
    `o=- ${session.id} ${session.version} IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${mids.join(' ')}`,
    'a=msid-semantic: WMS *',
    `a=fingerprint:sha-256 ${fingerprint.value}`,
  ];
}

/** An m-line and the ICE lines of mediasoup's UDP candidate, the same in every bundled section. */
function mediaLines(transport: OfferTransport, kind: string, payloadTypes: number[]): string[] {
  const candidate = transport.iceCandidates.find((c) => c.protocol === 'udp');
  if (!candidate) throw new Error('transport has no UDP candidate');
  const address = candidate.address ?? candidate.ip;
  return [
    `m=${kind} ${candidate.port} UDP/TLS/RTP/SAVPF ${payloadTypes.join(' ')}`,
    `c=IN IP4 ${address}`,
    `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
    `a=ice-pwd:${transport.iceParameters.password}`,
    `a=candidate:${candidate.foundation} 1 udp ${candidate.priority} ${address} ${candidate.port} typ host`,
    'a=end-of-candidates',
  ];
}

/**
 * Build an offer carrying the given consumers over one bundled WebRtcTransport. For a renegotiation
 * (more consumers on the same transport), pass the same sessionId and a higher version.
 */
export function consumerOffer(transport: OfferTransport, consumers: OfferConsumer[], session = { id: Date.now(), version: 1 }): string {
  const mids = consumers.map((c, i) => c.rtpParameters.mid ?? String(i));
  const lines = sessionLines(transport, mids, session);
  consumers.forEach((consumer, i) => {
    const codecs = consumer.rtpParameters.codecs;
    lines.push(
      ...mediaLines(transport, consumer.kind, codecs.map((c) => c.payloadType)),
      'a=setup:actpass',
      `a=mid:${mids[i]}`,
      'a=sendonly',
      'a=rtcp-mux',
    );
    for (const codec of codecs) {
      const [, name] = codec.mimeType.split('/');
      lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`);
      const fmtp = Object.entries(codec.parameters ?? {}).map(([k, v]) => `${k}=${String(v)}`);
      if (fmtp.length) lines.push(`a=fmtp:${codec.payloadType} ${fmtp.join(';')}`);
      for (const fb of codec.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${codec.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
    }
    for (const ext of consumer.rtpParameters.headerExtensions ?? []) lines.push(`a=extmap:${ext.id} ${ext.uri}`);
    const encoding = consumer.rtpParameters.encodings?.[0];
    const cname = consumer.rtpParameters.rtcp?.cname ?? 'bench';
    if (encoding?.ssrc) {
      lines.push(`a=msid:bench ${consumer.id}`);
      if (encoding.rtx?.ssrc) lines.push(`a=ssrc-group:FID ${encoding.ssrc} ${encoding.rtx.ssrc}`);
      lines.push(`a=ssrc:${encoding.ssrc} cname:${cname}`);
      if (encoding.rtx?.ssrc) lines.push(`a=ssrc:${encoding.rtx.ssrc} cname:${cname}`);
    }
  });
  return `${lines.join('\r\n')}\r\n`;
}

/** One sending m-section of a peer's own offer (see offeredSections). */
export interface OfferedSection {
  kind: 'audio' | 'video';
  mid: string;
  payloadType: number;
  ssrc: number;
  cname: string;
  midExtensionId: number | undefined;
}

/** The m-sections of a sending peer's offer: mid, the VP8 or opus payload type, SSRC, cname, mid extension id. */
export function offeredSections(sdp: string): OfferedSection[] {
  return sdp
    .split(/\r?\nm=/)
    .slice(1)
    .map((section) => {
      const kind = section.startsWith('video') ? 'video' : 'audio';
      const codec = kind === 'video' ? 'VP8/90000' : 'opus/48000';
      const pt = new RegExp(`a=rtpmap:(\\d+) ${codec}`, 'i').exec(section);
      const ssrc = /a=ssrc:(\d+) cname:(\S+)/.exec(section);
      const mid = /a=mid:(\S+)/.exec(section);
      const ext = new RegExp(`a=extmap:(\\d+)(?:/\\w+)? ${MID_URI}`).exec(section);
      if (!pt || !ssrc || !mid) throw new Error(`offer: no ${codec}, SSRC or mid in the ${kind} section`);
      return { kind, mid: mid[1]!, payloadType: Number(pt[1]), ssrc: Number(ssrc[1]), cname: ssrc[2]!, midExtensionId: ext ? Number(ext[1]) : undefined };
    });
}

/** mediasoup's answer to a sending peer's offer: ICE-lite, DTLS client (the peer is told to be the server). */
export function producerAnswer(transport: OfferTransport, sections: OfferedSection[]): string {
  const lines = sessionLines(
    transport,
    sections.map((s) => s.mid),
    { id: Date.now(), version: 1 },
  );
  for (const s of sections) {
    lines.push(
      ...mediaLines(transport, s.kind, [s.payloadType]),
      'a=setup:active',
      `a=mid:${s.mid}`,
      'a=recvonly',
      'a=rtcp-mux',
      s.kind === 'video' ? `a=rtpmap:${s.payloadType} VP8/90000` : `a=rtpmap:${s.payloadType} opus/48000/2`,
    );
    if (s.kind === 'video') lines.push(`a=rtcp-fb:${s.payloadType} nack`, `a=rtcp-fb:${s.payloadType} nack pli`);
    if (s.midExtensionId) lines.push(`a=extmap:${s.midExtensionId} ${MID_URI}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The DTLS parameters of the subscriber's answer, as mediasoup's transport.connect() wants them. */
export function answerDtlsParameters(answer: string): types.DtlsParameters {
  const fingerprint = /a=fingerprint:(\S+) (\S+)/.exec(answer);
  const setup = /a=setup:(\S+)/.exec(answer);
  if (!fingerprint) throw new Error('answer has no fingerprint');
  return {
    role: setup?.[1] === 'passive' ? 'server' : 'client',
    fingerprints: [{ algorithm: fingerprint[1] as types.FingerprintAlgorithm, value: fingerprint[2]! }],
  };
}
