// Whether mediasoup runs its bandwidth estimator for a receiver. It starts one per transport
// (RTC::TransportCongestionControlClient: libwebrtc's send-side controller and pacer, fed every
// packet the transport sends) at the first video consumer that has the transport-wide-cc header
// extension with transport-cc feedback, or abs-send-time with goog-remb feedback (RTC::Transport,
// on consume).
// Browsers offer both, so every browser's receive transport runs one; a plain subscriber, the
// recorder and a pipe do not. It costs the worker more per packet (CapacityOptions.estimatorPacketCost).
import type { types } from 'mediasoup';

export const TRANSPORT_WIDE_CC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const ABS_SEND_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';

/** Whether a receiver with these capabilities gets a bandwidth estimator on its transport. */
export function estimatesBandwidth(capabilities: types.RtpCapabilities): boolean {
  const extensions = new Set((capabilities.headerExtensions ?? []).filter((e) => e.kind === 'video').map((e) => e.uri));
  const feedback = new Set((capabilities.codecs ?? []).filter((c) => c.kind === 'video').flatMap((c) => (c.rtcpFeedback ?? []).map((fb) => fb.type)));
  return (extensions.has(TRANSPORT_WIDE_CC) && feedback.has('transport-cc')) || (extensions.has(ABS_SEND_TIME) && feedback.has('goog-remb'));
}
