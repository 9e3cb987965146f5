// The few RTP/RTCP fields the recorder's relay reads (RFC 3550 fixed headers, RFC 7741 VP8 and
// RFC 6184 H.264 payload starts). Only fixed-offset fields of packets the local SFU produced; a
// malformed packet reads as "not a keyframe" / undefined, never throws.

/** Whether a muxed packet is RTCP (RFC 5761: payload types 192-223 are RTCP). */
export function isRtcp(packet: Buffer): boolean {
  return packet.length >= 8 && packet[1]! >= 192 && packet[1]! <= 223;
}

/** RTP sequence number, or undefined if this is not an RTP version 2 packet. */
export function rtpSequence(packet: Buffer): number | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  return packet.readUInt16BE(2);
}

/** RTP timestamp, or undefined if this is not an RTP version 2 packet. */
export function rtpTimestamp(packet: Buffer): number | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  return packet.readUInt32BE(4);
}

/** The payload of an RTP packet (after CSRCs, header extension and before padding). */
export function rtpPayload(packet: Buffer): Buffer | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  let offset = 12 + (packet[0]! & 0x0f) * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[packet.length - 1]!;
  return offset <= end ? packet.subarray(offset, end) : undefined;
}

/** Whether this RTP packet starts a keyframe (VP8 or H.264); other codecs never do. */
export function isKeyFrameStart(packet: Buffer, mimeType: string): boolean {
  const payload = rtpPayload(packet);
  if (!payload || payload.length < 1) return false;
  switch (mimeType.toLowerCase()) {
    case 'video/vp8':
      return vp8KeyFrameStart(payload);
    case 'video/h264':
      return h264KeyFrameStart(payload);
    default:
      return false;
  }
}

function vp8KeyFrameStart(payload: Buffer): boolean {
  const first = payload[0]!;
  const start = (first & 0x10) !== 0 && (first & 0x0f) === 0; // S bit, partition 0
  if (!start) return false;
  let offset = 1;
  if (first & 0x80) {
    const ext = payload[offset++];
    if (ext === undefined) return false;
    if (ext & 0x80) offset += (payload[offset] ?? 0) & 0x80 ? 2 : 1; // picture id, 7 or 15 bits
    if (ext & 0x40) offset += 1; // TL0PICIDX
    if (ext & 0x30) offset += 1; // TID/KEYIDX
  }
  const header = payload[offset];
  return header !== undefined && (header & 0x01) === 0; // P bit 0: keyframe
}

function h264KeyFrameStart(payload: Buffer): boolean {
  const type = payload[0]! & 0x1f;
  // A keyframe starts with SPS (7) or an IDR slice (5), alone, in a STAP-A (24) or a first FU-A (28).
  if (type === 5 || type === 7) return true;
  if (type === 24) {
    let offset = 1;
    while (offset + 2 < payload.length) {
      const size = payload.readUInt16BE(offset);
      const nal = payload[offset + 2]! & 0x1f;
      if (nal === 5 || nal === 7) return true;
      offset += 2 + size;
    }
    return false;
  }
  if (type === 28 && payload.length >= 2) return (payload[1]! & 0x80) !== 0 && ((payload[1]! & 0x1f) === 5 || (payload[1]! & 0x1f) === 7);
  return false;
}

/**
 * The NTP time (in ms, as the report carries it: not necessarily wall time; mediasoup's consumers
 * report the worker's monotonic clock) and RTP timestamp of a sender report in a (compound) RTCP packet. */
export function rtcpSenderReport(packet: Buffer): { ntpMs: number; rtpTimestamp: number } | undefined {
  let offset = 0;
  while (offset + 4 <= packet.length) {
    const type = packet[offset + 1]!;
    const length = (packet.readUInt16BE(offset + 2) + 1) * 4;
    if (type === 200 && offset + 20 <= packet.length) {
      const seconds = packet.readUInt32BE(offset + 8);
      const fraction = packet.readUInt32BE(offset + 12);
      return { ntpMs: seconds * 1000 + (fraction / 2 ** 32) * 1000, rtpTimestamp: packet.readUInt32BE(offset + 16) };
    }
    offset += length;
  }
  return undefined;
}
