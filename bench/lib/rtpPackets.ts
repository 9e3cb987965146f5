// RTP packets as the bench generator writes them and the sinks read them. Every media packet carries
// a marker in its payload: magic, the monotonic send time and a run-wide packet counter. The SFUs
// rewrite RTP headers (ssrc, seq, timestamp) but forward payloads untouched, so the sink can compute
// per-packet latency and exact loss without matching headers. CLOCK_MONOTONIC
// (process.hrtime.bigint) is system-wide on Linux, so sender and receiver may be different threads.

/** Bytes "LCTB" at the start of the marker. */
export const MARKER_MAGIC = 0x4c435442;
/** Marker: magic (4) + send time ns (8) + packet counter (4). */
export const MARKER_BYTES = 16;

export const VP8_PAYLOAD_TYPE = 96;
export const OPUS_PAYLOAD_TYPE = 111;
export const VIDEO_SSRC = 0x11110000;
export const AUDIO_SSRC = 0x22220000;

/** Offset of the marker inside a VP8 payload: 4-byte descriptor (X, I, 15-bit picture id) + 1 VP8 header byte. */
export const VP8_MARKER_OFFSET = 5;
/** Offset of the marker inside an opus payload: 1 TOC byte. */
export const OPUS_MARKER_OFFSET = 1;

/** Write the 12-byte RTP header (no CSRC, no extension). */
export function writeRtpHeader(buf: Buffer, pt: number, marker: boolean, seq: number, timestamp: number, ssrc: number): void {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | pt;
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(timestamp >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

/** Bytes of the VP8 payload descriptor Chrome writes: X, I and a 15-bit picture id. */
export const VP8_DESCRIPTOR_BYTES = 4;

/** Write a Chrome-like VP8 payload descriptor (RFC 7741) at `offset`. */
export function writeVp8Descriptor(buf: Buffer, offset: number, start: boolean, pictureId: number): void {
  buf[offset] = 0x80 | (start ? 0x10 : 0); // X=1, S=start, PID=0
  buf[offset + 1] = 0x80; // I=1
  buf[offset + 2] = 0x80 | ((pictureId >> 8) & 0x7f); // M=1: 15-bit picture id
  buf[offset + 3] = pictureId & 0xff;
}

/** Write a VP8 descriptor + the first byte of a stand-in VP8 frame header at `offset` (the generator's frames). */
export function writeVp8Start(buf: Buffer, offset: number, start: boolean, keyFrame: boolean, pictureId: number): void {
  writeVp8Descriptor(buf, offset, start, pictureId);
  // First byte of the VP8 frame header: bit 0 is the inverse key-frame flag; only meaningful when S=1.
  buf[offset + VP8_DESCRIPTOR_BYTES] = keyFrame ? 0x10 : 0x11;
}

/** Write the bench marker at `offset`. */
export function writeMarker(buf: Buffer, offset: number, sentNs: bigint, counter: number): void {
  buf.writeUInt32BE(MARKER_MAGIC, offset);
  buf.writeBigUInt64BE(sentNs, offset + 4);
  buf.writeUInt32BE(counter >>> 0, offset + 12);
}

/** Where the RTP payload starts, or -1 if this is not an RTP media packet (RTCP, STUN, junk). */
export function rtpPayloadOffset(buf: Buffer, length = buf.length): number {
  if (length < 12 || (buf[0]! & 0xc0) !== 0x80) return -1;
  const pt = buf[1]! & 0x7f;
  if (pt >= 64 && pt <= 95) return -1; // RTCP (200-207 with the marker bit read as part of pt)
  let offset = 12 + (buf[0]! & 0x0f) * 4;
  if (buf[0]! & 0x10) {
    if (length < offset + 4) return -1;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  return offset <= length ? offset : -1;
}

/** The marker read from an RTP payload; tries the VP8 and the opus offsets. */
export function readMarker(payload: Buffer, start = 0, end = payload.length): { sentNs: bigint; counter: number } | undefined {
  for (const rel of [VP8_MARKER_OFFSET, OPUS_MARKER_OFFSET]) {
    const at = start + rel;
    if (at + MARKER_BYTES <= end && payload.readUInt32BE(at) === MARKER_MAGIC) {
      return { sentNs: payload.readBigUInt64BE(at + 4), counter: payload.readUInt32BE(at + 12) };
    }
  }
  return undefined;
}
