// The one place the recording control reaches the SFU's recorder: a recorder per track, fed by
// the room's recorder subscriber (sfu/recorder). Everything else in server/recording sees only this shape.
import type { RoomMedia, Track, TypedEmitter } from '../../sfu/index.js';
import type { RecorderTap, TrackRecorderEvents, TrackRecorderOptions } from '../../sfu/recorder/index.js';

/** What the control needs of one track's recorder (sfu/recorder's TrackRecorder). */
export interface TrackRecorderHandle extends Pick<TypedEmitter<TrackRecorderEvents>, 'on' | 'once' | 'off'> {
  /** `${peerId}:${source}`: the same after a worker restart. */
  readonly trackId: string;
  /** Continue in a new segment on the participant's new producer (after a worker restart). */
  attach(tap: RecorderTap): Promise<void>;
  /** Clean stop: the file gets its trailer; resolves after `end`. */
  stop(): Promise<void>;
}

/** How recorders are started on, and moved between, a room's media. */
export interface TrackTaps {
  /** Start recording one producer of a room; the caller must consume every segment's stream. */
  start(media: RoomMedia, producer: Track): Promise<TrackRecorderHandle>;
  /** Point a recorder at the participant's new producer (the room's media moved to a live worker). */
  attach(recorder: TrackRecorderHandle, media: RoomMedia, producer: Track): Promise<void>;
}

/** The SFU's recorder (sfu/recorder): the room's recorder subscriber, a PlainTransport tap on 127.0.0.1 into ffmpeg, no re-encode. */
export function sfuTrackTaps(options: TrackRecorderOptions = {}): TrackTaps {
  return {
    start: (media, track) => media.recordTrack(track.id, options),
    attach: async (recorder, media, track) => recorder.attach(await media.tap(track.id)),
  };
}
