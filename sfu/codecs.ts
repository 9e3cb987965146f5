// The codecs every room's router offers. Opus for voice; VP8 as the video codec every browser
// decodes in software; H264 (constrained baseline, packetization-mode 1) for devices that only
// have a hardware H264 encoder. mediasoup's worker forwards all three without transcoding.
import type { types } from 'mediasoup';

/** Router media codecs for a classroom. */
export const roomMediaCodecs: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
      'level-asymmetry-allowed': 1,
      'x-google-start-bitrate': 1000,
    },
  },
];
