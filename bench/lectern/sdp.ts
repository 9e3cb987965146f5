// The SDP a WebRTC subscriber needs to receive from a mediasoup WebRtcTransport, written by hand
// (the job mediasoup-client's RemoteSdp does in a browser): mediasoup offers (ICE-lite, DTLS actpass,
// sendonly m-lines with the consumers' SSRCs), the subscriber answers, and the answer's fingerprint
// and DTLS role connect the transport. Takes plain data, so it serves both mediasoup's own objects
// (the fan-out) and what a participant learns over signalling (the seminar's bots).
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

/**
 * Build an offer carrying the given consumers over one bundled WebRtcTransport. For a renegotiation
 * (more consumers on the same transport), pass the same sessionId and a higher version.
 */
export function consumerOffer(transport: OfferTransport, consumers: OfferConsumer[], session = { id: Date.now(), version: 1 }): string {
  const { usernameFragment, password } = transport.iceParameters;
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256');
  if (!fingerprint) throw new Error('transport has no sha-256 fingerprint');
  const mids = consumers.map((c, i) => c.rtpParameters.mid ?? String(i));
  const lines = [
    'v=0',
    `o=- ${session.id} ${session.version} IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${mids.join(' ')}`,
    'a=msid-semantic: WMS *',
    `a=fingerprint:sha-256 ${fingerprint.value}`,
  ];
  consumers.forEach((consumer, i) => {
    const codecs = consumer.rtpParameters.codecs;
    const candidate = transport.iceCandidates.find((c) => c.protocol === 'udp');
    if (!candidate) throw new Error('transport has no UDP candidate');
    lines.push(
      `m=${consumer.kind} ${candidate.port} UDP/TLS/RTP/SAVPF ${codecs.map((c) => c.payloadType).join(' ')}`,
      `c=IN IP4 ${candidate.address ?? candidate.ip}`,
      `a=ice-ufrag:${usernameFragment}`,
      `a=ice-pwd:${password}`,
      `a=candidate:${candidate.foundation} 1 udp ${candidate.priority} ${candidate.address ?? candidate.ip} ${candidate.port} typ host`,
      'a=end-of-candidates',
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
