// A recorder's subscription to one track, as the rest of Lectern holds it: a handle by track id.
// The PlainTap behind it (a mediasoup consumer and transport) stays inside sfu/: RoomMedia.tap()
// hands out the handle, and only sfu's recorder turns it back into the tap (plainTapOf is not
// exported from index.ts), so server/ passes recordings between media without a mediasoup type.
import type { PlainTap } from './recorder/PlainTap.js';

const taps = new WeakMap<TrackTap, PlainTap>();

/** An open tap on one track (RoomMedia.tap), for TrackRecorder.attach. */
export class TrackTap {
  /** The track it taps. */
  readonly trackId: string;
  // A private field makes the class nominal: no other object passes for a handle.
  readonly #nominal = undefined;

  private constructor(trackId: string) {
    this.trackId = trackId;
  }

  /** Wrap a tap (sfu-internal). */
  static of(tap: PlainTap): TrackTap {
    const handle = new TrackTap(tap.producer.id);
    taps.set(handle, tap);
    return handle;
  }

  /** Whether the tap has closed (its track ended, its router went). */
  get closed(): boolean {
    return taps.get(this)?.closed ?? true;
  }
}

/** The tap behind a handle, for sfu/ alone. */
export function plainTapOf(handle: TrackTap): PlainTap {
  return taps.get(handle)!;
}
