// The recorder: one more subscriber of the media plane, capturing tracks without re-encoding.
export { TrackRecorder } from './TrackRecorder.js';
/** A recorder's subscription to one track (RoomMedia.tap): an opaque handle outside sfu/. */
export type { TrackTap as RecorderTap } from '../TrackTap.js';
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
