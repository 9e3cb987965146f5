// Records one participant's track (camera, screen or microphone) as a series of segments. A
// segment is one muxer run over one tap: it starts on the first keyframe (asked for at once, then
// every keyFrameRetryMs until it comes, and again after packet loss) and ends on stop(), when the
// source goes away (worker died, producer closed) or when the muxer crashes. A crash is reported
// through `error` and the recording carries on in a new segment; a lost source is reported through
// `detached` and the recording carries on when attach() hands over the track's new producer.
import { PassThrough, Transform } from 'node:stream';
import type { types } from 'mediasoup';
import { TypedEmitter } from '../TypedEmitter.js';
import type { TrackSource } from '../Track.js';
import { FfmpegMuxer } from './FfmpegMuxer.js';
import { PlainTap, type ProducerSenderReport, type SenderReport } from './PlainTap.js';
import { TrackTap, plainTapOf } from '../TrackTap.js';
import {
  RecorderError,
  type DetachReason,
  type RecordedContainer,
  type RecordedSegment,
  type SegmentCapture,
  type SegmentEnd,
  type SegmentEndReason,
  type SegmentMeta,
  type TapPoint,
  type TrackRecorderEvents,
  type TrackRecorderOptions,
} from './types.js';

/** How often a running video segment asks for a keyframe (TrackRecorderOptions.keyFrameIntervalMs). */
export const DEFAULT_KEYFRAME_INTERVAL_MS = 10_000;
// At most one keyframe request per this many ms after loss (Galène's disk writer uses the same).
const LOSS_KEYFRAME_INTERVAL_MS = 500;
// How far before its arrival a first frame may have been captured (encoder, pacer, network), and
// after it (a report's one-way delay was longer than the frame's): beyond, a mapping is not its stream's.
const CAPTURE_BEFORE_ARRIVAL_MS = 5_000;
const CAPTURE_AFTER_ARRIVAL_MS = 500;

/** The segment being captured now. */
interface LiveSegment {
  muxer: FfmpegMuxer;
  tap: PlainTap;
  output: PassThrough;
  meta: SegmentMeta | undefined;
  bytes: number;
  keyFrameRequests: number;
  lastSenderReport: SenderReport | undefined;
  startTimestamp: number | undefined;
  /** When the first frame reached the relay (ms since the epoch). */
  startArrivedAt: number | undefined;
  /** Per producer SSRC: the mapping nearest the segment's start, and the least arrival-minus-NTP seen. */
  producerReports: Map<number, { mapping: ProducerSenderReport; afterStart: boolean; offsetMs: number }>;
  endReason: SegmentEndReason | undefined;
  finished: Promise<void>;
  timers: NodeJS.Timeout[];
  /** Whether segmentEnd was emitted. */
  reported: boolean;
}

/** A recorder of one track, surviving worker restarts and muxer crashes in new segments. */
export class TrackRecorder extends TypedEmitter<TrackRecorderEvents> {
  /** `${peerId}:${source}`: stable across segments and worker restarts. */
  readonly trackId: string;
  /** Participant whose track this is. */
  readonly peerId: string;
  /** microphone, camera or screen. */
  readonly source: TrackSource;
  /** audio or video. */
  readonly kind: types.MediaKind;
  readonly #options: Required<TrackRecorderOptions>;
  #tap: PlainTap | undefined;
  #live: LiveSegment | undefined;
  #nextIndex = 0;
  #restarts = 0;
  #stopping: Promise<void> | undefined;
  #lastLossRequest = 0;
  /**
   * Segments that began while start() was still running (the first audio packet can arrive before
   * the worker's answer to resuming the tap): nobody could be listening yet, and a `segment` nobody
   * hears is a track lost from the recording. Announced once the caller has its recorder.
   */
  #held: RecordedSegment[] | undefined = [];

  /**
   * Start recording from `tap`: a subscription of the room's recorder (RoomMedia.tap), or a producer
   * on a router outside any room (tests, the bench). Rejects if the tap or the muxer cannot start.
   */
  static async start(tap: PlainTap | TapPoint, options: TrackRecorderOptions = {}): Promise<TrackRecorder> {
    const recorder = new TrackRecorder(tap, options);
    await recorder.#open(tap);
    // After the caller's `await` has resumed (microtasks) and it has attached its listeners.
    setImmediate(() => {
      const held = recorder.#held ?? [];
      recorder.#held = undefined;
      for (const segment of held) recorder.emit('segment', segment);
    });
    return recorder;
  }

  private constructor(tap: PlainTap | TapPoint, options: TrackRecorderOptions) {
    super();
    this.peerId = tap.producer.appData.peerId;
    this.source = tap.producer.appData.source;
    this.kind = tap.producer.kind;
    this.trackId = `${this.peerId}:${this.source}`;
    this.#options = {
      ffmpegPath: options.ffmpegPath ?? 'ffmpeg',
      keyFrameRetryMs: options.keyFrameRetryMs ?? 500,
      maxRestarts: options.maxRestarts ?? 3,
      keyFrameIntervalMs: options.keyFrameIntervalMs ?? DEFAULT_KEYFRAME_INTERVAL_MS,
    };
  }

  /** Segments started so far. */
  get segmentCount(): number {
    return this.#nextIndex;
  }

  /** Whether the recorder has a live source (false after `detached`, until attach()). */
  get attached(): boolean {
    return this.#tap !== undefined && !this.#tap.closed;
  }

  /** Process id of the current muxer, if one runs (for health reports and crash tests). */
  get muxerPid(): number | undefined {
    return this.#live?.muxer.pid;
  }

  /**
   * Continue recording from a new producer of the same participant and source (the room's media
   * moved to a live worker after the old one died): a new segment begins.
   */
  async attach(handle: TrackTap | PlainTap | TapPoint): Promise<void> {
    if (this.#stopping) throw new Error(`recorder of ${this.trackId} is stopped`);
    // A handle from RoomMedia.tap(): the tap behind it (server/ holds handles, never the tap).
    const tap = handle instanceof TrackTap ? plainTapOf(handle) : handle;
    const { peerId, source } = tap.producer.appData;
    if (peerId !== this.peerId || source !== this.source) throw new Error(`producer is ${peerId}:${source}, not ${this.trackId}`);
    if (this.#tap && !this.#tap.closed) {
      const live = this.#live;
      this.#tap.close(); // its close handler ends the current segment as source-lost
      await live?.finished;
    }
    await this.#open(tap);
  }

  /** Stop cleanly: the muxer writes its trailer, every segment ends, then `end` is emitted. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const live = this.#live;
      if (live) await this.#endSegment(live, 'stopped');
      this.#tap?.close();
      this.emit('end');
    })();
    return this.#stopping;
  }

  async #open(point: PlainTap | TapPoint): Promise<void> {
    let tap: PlainTap;
    try {
      tap = point instanceof PlainTap ? point : await PlainTap.create(point.router, point.producer);
    } catch (error) {
      throw new RecorderError('tap-failed', this.trackId, `cannot tap producer ${point.producer.id}: ${(error as Error).message}`, { cause: error });
    }
    if (tap.closed) throw new RecorderError('tap-failed', this.trackId, `the tap on producer ${point.producer.id} closed before recording began`);
    this.#tap = tap;
    tap.on('close', (reason) => {
      if (reason === 'closed' || this.#stopping) return;
      const live = this.#live;
      if (live?.tap === tap) void this.#endSegment(live, 'source-lost');
      this.emit('detached', reason as DetachReason);
    });
    tap.on('loss', () => {
      const now = Date.now();
      if (now - this.#lastLossRequest < LOSS_KEYFRAME_INTERVAL_MS) return;
      this.#lastLossRequest = now;
      if (this.#live?.tap === tap) this.#live.keyFrameRequests++;
      void tap.requestKeyFrame();
    });
    tap.on('senderReport', (report) => {
      const live = this.#live;
      if (live?.tap !== tap) return;
      live.lastSenderReport = report;
      if (live.meta && live.meta.senderClockAt === undefined) live.meta.senderClockAt = this.#senderClock(live);
    });
    tap.on('producerSenderReport', (report) => {
      const live = this.#live;
      if (live?.tap !== tap) return;
      const seen = live.producerReports.get(report.ssrc);
      // The first report after the first frame maps it with the least extrapolation (clock drift).
      live.producerReports.set(report.ssrc, {
        mapping: seen?.afterStart ? seen.mapping : report,
        afterStart: seen?.afterStart === true || live.meta !== undefined,
        offsetMs: Math.min(seen?.offsetMs ?? Number.POSITIVE_INFINITY, report.arrivedAt - report.ntpMs),
      });
      if (live.meta && !live.meta.capture) live.meta.capture = this.#capture(live);
    });
    tap.on('started', ({ arrivedAt, rtpTimestamp }) => {
      const live = this.#live;
      if (live?.tap !== tap || live.meta) return;
      live.startTimestamp = rtpTimestamp;
      live.startArrivedAt = arrivedAt;
      const codec = tap.consumer.rtpParameters.codecs[0]!;
      live.meta = {
        trackId: this.trackId,
        peerId: this.peerId,
        kind: this.kind,
        source: this.source,
        codec: codec.mimeType,
        container: containerFor(codec.mimeType),
        index: this.#nextIndex++,
        producerId: tap.producer.id,
        startedAt: arrivedAt,
        senderClockAt: undefined,
      };
      live.meta.senderClockAt = this.#senderClock(live);
      live.meta.capture = this.#capture(live);
      const segment: RecordedSegment = { meta: live.meta, stream: live.output, done: live.finished.then(() => this.#endOf(live)) };
      if (this.#held) this.#held.push(segment);
      else this.emit('segment', segment);
    });
    await this.#startSegment(tap);
  }

  async #startSegment(tap: PlainTap): Promise<void> {
    const codec = tap.consumer.rtpParameters.codecs[0]!;
    let muxer: FfmpegMuxer;
    try {
      muxer = await FfmpegMuxer.start(tap.consumer.rtpParameters, this.kind, containerFor(codec.mimeType), this.#options.ffmpegPath);
    } catch (error) {
      const failure = new RecorderError('muxer-start-failed', this.trackId, (error as Error).message, { cause: error });
      this.emit('error', failure);
      throw failure;
    }
    const output = new PassThrough();
    const live: LiveSegment = {
      muxer,
      tap,
      output,
      meta: undefined,
      bytes: 0,
      keyFrameRequests: 0,
      lastSenderReport: undefined,
      startTimestamp: undefined,
      startArrivedAt: undefined,
      producerReports: new Map(),
      endReason: undefined,
      finished: Promise.resolve(),
      timers: [],
      reported: false,
    };
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        live.bytes += chunk.length;
        done(null, chunk);
      },
    });
    muxer.output.pipe(counter).pipe(output);
    const drained = new Promise<void>((resolve) => counter.once('end', resolve).once('error', () => resolve()));
    live.finished = Promise.all([muxer.exited, drained]).then(() => undefined);
    this.#live = live;
    void muxer.exited.then((exit) => {
      if (exit.requested || live.endReason) return;
      // The muxer died on its own: say so, end the segment, and go on in a new one if we can.
      live.endReason = 'crashed';
      this.emit('error', new RecorderError('muxer-crashed', this.trackId, `ffmpeg exited (code ${exit.code}, signal ${exit.signal}): ${exit.stderrTail.trim().slice(-500)}`));
      void this.#finishSegment(live).then(() => this.#restartAfterCrash(tap));
    });
    try {
      await tap.relayTo({ rtpPort: muxer.rtpPort, rtcpPort: muxer.rtpPort + 1 });
    } catch (error) {
      await this.#endSegment(live, 'source-lost');
      throw new RecorderError('tap-failed', this.trackId, `cannot resume the tap: ${(error as Error).message}`, { cause: error });
    }
    if (this.kind === 'video') {
      const ask = (): void => {
        if (tap.started || live.endReason) return;
        live.keyFrameRequests++;
        void tap.requestKeyFrame();
      };
      ask();
      live.timers.push(setInterval(ask, this.#options.keyFrameRetryMs));
      // A seek point every keyFrameIntervalMs at least (the seek index cues every keyframe).
      live.timers.push(
        setInterval(() => {
          if (!tap.started || live.endReason) return;
          live.keyFrameRequests++;
          void tap.requestKeyFrame();
        }, this.#options.keyFrameIntervalMs),
      );
    }
  }

  async #restartAfterCrash(tap: PlainTap): Promise<void> {
    if (this.#stopping || tap.closed || this.#tap !== tap) return;
    if (this.#restarts >= this.#options.maxRestarts) {
      this.emit('error', new RecorderError('muxer-crashed', this.trackId, `ffmpeg crashed ${this.#restarts + 1} times; giving up on ${this.trackId}`));
      tap.close();
      return;
    }
    this.#restarts++;
    await this.#startSegment(tap).catch(() => undefined); // reported through `error` already
  }

  /** End a segment on purpose (stop, lost source): the muxer writes its trailer. */
  async #endSegment(live: LiveSegment, reason: SegmentEndReason): Promise<void> {
    if (!live.endReason) {
      live.endReason = reason;
      // The capture ends here: nothing is relayed after the muxer's BYE (FfmpegMuxer.stop), which
      // ends its input whether or not the source still sends (a dead worker's tap sends nothing).
      live.tap.detach();
      await live.muxer.stop();
    }
    await this.#finishSegment(live);
  }

  async #finishSegment(live: LiveSegment): Promise<void> {
    for (const timer of live.timers.splice(0)) clearInterval(timer);
    if (!live.meta) live.output.resume(); // never started: nobody reads it
    await live.finished;
    if (this.#live === live) this.#live = undefined;
    if (live.meta && !live.reported) {
      live.reported = true;
      this.emit('segmentEnd', live.meta, this.#endOf(live));
    }
  }

  #endOf(live: LiveSegment): SegmentEnd {
    return {
      endedAt: Date.now(),
      reason: live.endReason ?? 'stopped',
      bytes: live.bytes,
      packets: live.tap.packets,
      frames: live.tap.frames,
      lost: live.tap.lost,
      keyFrameRequests: live.keyFrameRequests,
      senderClockAt: live.meta?.senderClockAt,
      capture: this.#capture(live) ?? live.meta?.capture,
    };
  }

  /**
   * When the segment's first frame was captured, on its sender's clock (the producer's sender
   * reports). The consumer forwards the producer's RTP timestamps unchanged (a simulcast consumer:
   * those of its reference stream), so one of the producer's streams maps them; its mapping puts
   * the capture a little before the arrival, another stream's (another random RTP base) hours off.
   */
  #capture(live: LiveSegment): SegmentCapture | undefined {
    if (live.startTimestamp === undefined || live.startArrivedAt === undefined) return undefined;
    const clockRate = live.tap.consumer.rtpParameters.codecs[0]!.clockRate;
    let best: { lead: number; capture: SegmentCapture } | undefined;
    for (const [ssrc, { mapping, offsetMs }] of live.producerReports) {
      const ticks = (live.startTimestamp - mapping.rtpTimestamp) | 0; // signed 32-bit difference
      const senderNtpMs = mapping.ntpMs + (ticks / clockRate) * 1000;
      const lead = live.startArrivedAt - (senderNtpMs + offsetMs);
      if (lead < -CAPTURE_AFTER_ARRIVAL_MS || lead > CAPTURE_BEFORE_ARRIVAL_MS) continue;
      if (!best || Math.abs(lead) < best.lead) best = { lead: Math.abs(lead), capture: { senderNtpMs, clockOffsetMs: offsetMs, ssrc } };
    }
    return best?.capture;
  }

  /** The sender-clock time of the segment's first frame, from the latest sender report. */
  #senderClock(live: LiveSegment): number | undefined {
    const report = live.lastSenderReport;
    if (!report || live.startTimestamp === undefined) return undefined;
    const clockRate = live.tap.consumer.rtpParameters.codecs[0]!.clockRate;
    const ticks = (live.startTimestamp - report.rtpTimestamp) | 0; // signed 32-bit difference
    return report.ntpMs + (ticks / clockRate) * 1000;
  }
}

/** WebM holds VP8/VP9/Opus; H.264 goes into Matroska. */
function containerFor(mimeType: string): RecordedContainer {
  return /^video\/h264$/i.test(mimeType) ? 'mkv' : 'webm';
}
