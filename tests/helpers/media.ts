// RTP and DTLS parameters a browser would send, for server tests that have no browser.
// Producing and consuming in mediasoup needs only parameters, not flowing packets.

/** Opus send parameters like Chromium's. */
export function opusParameters(ssrc = 11_111_111): Record<string, unknown> {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `cname-${ssrc}` },
  };
}

/** VP8 send parameters like Chromium's. */
export function vp8Parameters(ssrc = 22_222_222): Record<string, unknown> {
  return {
    codecs: [
      {
        mimeType: 'video/VP8',
        payloadType: 96,
        clockRate: 90000,
        parameters: {},
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      },
    ],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `cname-${ssrc}` },
  };
}

/** A syntactically valid DTLS client fingerprint. */
export const clientDtls = {
  role: 'client',
  fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':') }],
};
