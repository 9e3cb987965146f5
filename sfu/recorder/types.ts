// The recorder's public shapes. A recorder is one more subscriber of the media plane: it taps a
// producer through a PlainTransport on 127.0.0.1 and hands each stretch of continuous capture (a
// segment) to its owner as a stream, so the bytes can be encrypted before anything touches the disk.
import type { Readable } from 'node:stream';
import type { types } from 'mediasoup';
import type { TrackProducer, TrackSource } from '../Track.js';

/** Container a segment is muxed into: WebM for VP8/Opus, Matroska for H.264. */
export type RecordedContainer = 'webm' | 'mkv';

/**
 * A producer on a router outside any room, for a recorder to tap directly (tests, the bench). In a
 * room the recorder is one more subscriber instead: RoomMedia.tap() gives its PlainTap, and after a
 * worker restart the new producer of the same participant and source gives the next.
 */
export interface TapPoint {
  /** Router the producer lives on. */
  readonly router: types.Router;
  /** The producer to record (its appData names the participant and source). */
  readonly producer: TrackProducer;
}

/** What one segment is; fixed when the segment starts. */
export interface SegmentMeta {
  /** Stable across segments and worker restarts: `${peerId}:${source}`. */
  trackId: string;
  /** Participant whose track this is. */
  peerId: string;
  /** audio or video. */
  kind: types.MediaKind;
  /** microphone, camera or screen. */
  source: TrackSource;
  /** MIME type of the recorded codec, e.g. 'video/VP8', 'audio/opus', 'video/H264'. */
  codec: string;
  /** webm (VP8, Opus) or mkv (H.264). */
  container: RecordedContainer;
  /** 0 for the first segment of the track, then 1, 2, ... */
  index: number;
  /** Producer id this segment was captured from (changes after a worker restart). */
  producerId: string;
  /**
   * Wall clock (ms since the epoch) of timestamp 0 of this segment's file: the arrival time of the
   * first RTP packet handed to the muxer. Players align tracks and segments on it.
   */
  startedAt: number;
  /**
   * The same instant on the RTCP sender-report clock (ms), mapped through the latest sender report
   * the tap received; undefined until one arrives (SegmentEnd repeats it). mediasoup's consumers
   * report the worker's monotonic clock (not wall time) and derive the RTP side from the packets
   * they forwarded, so this is informational: compare it only between tracks of one worker, and
   * align files on startedAt (measured: the two differ by ~0.5 s for an ffmpeg sender).
   */
  senderClockAt?: number | undefined;
  /** The capture time of the first frame on the sender's clock, once a producer sender report came (SegmentEnd repeats it). */
  capture?: SegmentCapture | undefined;
}

/**
 * When a segment's first frame was captured, from the producer's sender reports (RTCP SR: the
 * sender's NTP clock against its RTP timestamps). Tracks of one sender share its clock, so their
 * `senderNtpMs` differences are their true offsets, whatever each path's delay; `clockOffsetMs`
 * (the least arrival-minus-NTP over the segment's reports: the sender's clock to this host's,
 * plus the fastest one-way delay) puts different senders on this host's clock.
 */
export interface SegmentCapture {
  /** The sender's NTP time (ms) at which the segment's first frame was captured. */
  senderNtpMs: number;
  /** This host's wall clock minus the sender's NTP clock, as the fastest report measured it, ms. */
  clockOffsetMs: number;
  /** The producer stream (SSRC) whose reports gave the mapping. */
  ssrc: number;
}

/** Why a segment ended. */
export type SegmentEndReason = 'stopped' | 'source-lost' | 'crashed';

/** How a segment ended. */
export interface SegmentEnd {
  /** Wall clock (ms since the epoch) when the segment's capture ended. */
  endedAt: number;
  /** Why it ended. */
  reason: SegmentEndReason;
  /** Muxed bytes written to the segment's stream. */
  bytes: number;
  /** RTP packets handed to the muxer. */
  packets: number;
  /** Frames handed to the muxer (RTP timestamps relayed): what the segment's file should hold. */
  frames: number;
  /** RTP packets missing by sequence number (gaps seen). */
  lost: number;
  /** Keyframe requests sent to the producer during the segment. */
  keyFrameRequests: number;
  /** Updated senderClockAt (a sender report may arrive after the segment started). */
  senderClockAt?: number | undefined;
  /** The capture time of the first frame, from every producer sender report of the segment. */
  capture?: SegmentCapture | undefined;
}

/** A segment in progress: its metadata, the muxed bytes, and how it ended. */
export interface RecordedSegment {
  /** What the segment is. */
  meta: SegmentMeta;
  /** The muxer's output (WebM/Matroska bytes); ends when the muxer has written its trailer. */
  stream: Readable;
  /** Resolves when the stream has ended and the muxer has exited (never rejects). */
  done: Promise<SegmentEnd>;
}

/** Why a recorder lost its source and waits for attach(). */
export type DetachReason = 'worker-died' | 'producer-closed' | 'room-closed';

/** Events of a TrackRecorder. */
export type TrackRecorderEvents = {
  /** A new segment started: consume its stream (it is not buffered without limit). */
  segment: [segment: RecordedSegment];
  /** A segment ended (its stream has ended). */
  segmentEnd: [meta: SegmentMeta, end: SegmentEnd];
  /** The source went away (worker died, producer closed); the recorder waits for attach() or stop(). */
  detached: [reason: DetachReason];
  /** Something went wrong that the owner must know about (e.g. the muxer crashed); the recorder carries on if it can. */
  error: [error: RecorderError];
  /** The recorder has stopped for good; every segment has ended. Emitted once. */
  end: [];
};

/** Options of a TrackRecorder. */
export interface TrackRecorderOptions {
  /** Path of the ffmpeg binary (default 'ffmpeg' from PATH). */
  ffmpegPath?: string;
  /** How often to ask for a keyframe until the first one arrives, ms (default 500). */
  keyFrameRetryMs?: number;
  /** Restart the muxer in a new segment after it crashed, at most this many times (default 3). */
  maxRestarts?: number;
  /**
   * Video: ask for a keyframe this often once the segment runs, ms (default 10 000): the seek
   * index has a Cue at every keyframe, and a browser's encoder sends one only when asked, so a
   * long recording would otherwise have one seek point at its start.
   */
  keyFrameIntervalMs?: number;
}

/** Why a recorder reported an error. */
export type RecorderErrorReason = 'muxer-crashed' | 'muxer-start-failed' | 'tap-failed';

/** An error a recorder reports through its `error` event. */
export class RecorderError extends Error {
  /** Machine-readable reason. */
  readonly reason: RecorderErrorReason;
  /** The track it concerns. */
  readonly trackId: string;
  constructor(reason: RecorderErrorReason, trackId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecorderError';
    this.reason = reason;
    this.trackId = trackId;
  }
}
