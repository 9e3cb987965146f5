// The recorder: one more subscriber of the media plane, capturing tracks without re-encoding.
export { TrackRecorder } from './TrackRecorder.js';
/** A recorder's subscription to one track (RoomMedia.tap): opaque outside sfu/. */
export type { PlainTap as RecorderTap } from './PlainTap.js';
export {
  RecorderError,
  type RecorderErrorReason,
  type TapPoint,
  type SegmentMeta,
  type SegmentEnd,
  type SegmentCapture,
  type SegmentEndReason,
  type RecordedSegment,
  type RecordedContainer,
  type DetachReason,
  type TrackRecorderEvents,
  type TrackRecorderOptions,
} from './types.js';
