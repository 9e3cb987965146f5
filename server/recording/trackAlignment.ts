// Where each recorded segment starts on one clock, so a player can line up a participant's audio
// with the video. By arrival (SegmentMeta.startedAt) a track is as late as its path: a slower video
// path (encoder queue, pacer, congested link) shows its pictures after their sound. The producer's
// sender reports (SegmentCapture) give when each first frame was captured on the sender's clock:
// tracks of one participant share that clock, so their offsets are exact; one offset per
// participant (the least arrival-minus-NTP over all their reports: their fastest path) puts them on
// this host's clock beside the others.
import type { StoredSegment } from './RecordingStore.js';

/** How a segment's start was placed. */
export type AlignmentClock = 'sender' | 'arrival';

/** A segment's start, ms after the recording's start (negative: captured just before it). */
export interface SegmentStart {
  offsetMs: number;
  clock: AlignmentClock;
}

/** Starts of `segments` (by segment id), relative to `recordingStart` (ms since the epoch). */
export function segmentStarts(segments: readonly StoredSegment[], recordingStart: number): Map<string, SegmentStart> {
  const peerOffset = new Map<string, number>();
  for (const s of segments) {
    if (!s.capture) continue;
    peerOffset.set(s.peerId, Math.min(peerOffset.get(s.peerId) ?? Number.POSITIVE_INFINITY, s.capture.clockOffsetMs));
  }
  const starts = new Map<string, SegmentStart>();
  for (const s of segments) {
    const offset = peerOffset.get(s.peerId);
    starts.set(
      s.segmentId,
      s.capture && offset !== undefined
        ? { offsetMs: Math.round(s.capture.senderNtpMs + offset - recordingStart), clock: 'sender' }
        : { offsetMs: Math.round(s.startedAt - recordingStart), clock: 'arrival' },
    );
  }
  return starts;
}
