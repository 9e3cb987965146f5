// Lecture mode: students join with microphone muted and camera off, and open them only once an
// instructor allows them. Built on the moderators' "must ask to unmute" lock (Peer.lockedSources,
// checked by resumeProducer and produce; lifted by allowUnmute), not a mechanism of its own, so a
// student held by lecture mode and one held by "mute all" are treated alike.
import type { TrackSource } from '../../sfu/index.js';
import type { Peer } from './Peer.js';

/** What lecture mode holds closed. Screen sharing needs presenter rights anyway. */
const HELD: readonly TrackSource[] = ['microphone', 'camera'];

/**
 * Whether a participant speaks freely: instructors (whoever may moderate) and presenters. They
 * are exempt from lecture mode, and their microphone is always forwarded, outside the room's limit
 * of loudest speakers: a lecturer who drops out because three students coughed is worse than one
 * more audio stream per listener, and there are only ever a few of them.
 */
export function speaksFreely(peer: Peer): boolean {
  return peer.can('moderate') || peer.presenter;
}

/** One room's lecture mode. */
export class LectureMode {
  #enabled: boolean;

  constructor(enabled: boolean) {
    this.#enabled = enabled;
  }

  /** Whether the room is in lecture mode. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** A participant entering: in lecture mode a student starts held (they have no tracks yet). */
  enter(peer: Peer): void {
    if (this.#enabled && !speaksFreely(peer)) for (const source of HELD) peer.lockedSources.add(source);
  }

  /**
   * Turn the mode on (every student's microphone and camera muted and held, each told so) or off
   * (everyone held is told they may unmute; nobody is unmuted for them). Returns how many were affected.
   */
  async set(enabled: boolean, peers: Iterable<Peer>): Promise<number> {
    this.#enabled = enabled;
    let affected = 0;
    for (const peer of peers) {
      if (speaksFreely(peer)) continue;
      if (enabled) await hold(peer);
      else release(peer);
      affected++;
    }
    return affected;
  }

  /** A participant's rights changed (made presenter or no longer): hold or release them to match. */
  async rightsChanged(peer: Peer): Promise<void> {
    if (!this.#enabled) return;
    if (speaksFreely(peer)) release(peer);
    else await hold(peer);
  }
}

async function hold(peer: Peer): Promise<void> {
  for (const source of HELD) {
    peer.lockedSources.add(source);
    const track = peer.media.trackFor(source);
    if (!track) continue;
    await peer.media.pauseTrack(track.id);
    peer.notify('moderatorMuted', { source, canUnmute: false });
  }
}

function release(peer: Peer): void {
  const released = HELD.map((source) => peer.lockedSources.delete(source));
  if (!released.includes(true)) return;
  peer.notify('unmuteAllowed', {});
}
