import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

/** Mute one of my tracks: receivers get `consumerPaused`. */
export const pauseProducer: Handler<'pauseProducer'> = async (ctx, data) => {
  await ctx.session.requireJoined().peer.media.pauseTrack(data.producerId);
  return {};
};

/** Unmute one of my tracks, unless a moderator locked it (then: raise your hand and ask). */
export const resumeProducer: Handler<'resumeProducer'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  const track = peer.media.tracks.get(data.producerId);
  if (track && peer.lockedSources.has(track.source)) {
    throw new SignallingError('forbidden', 'a moderator muted you; raise your hand to ask to unmute');
  }
  await peer.media.resumeTrack(data.producerId);
  return {};
};

/** Stop one of my tracks for good. */
export const closeProducer: Handler<'closeProducer'> = async (ctx, data) => {
  ctx.session.requireJoined().peer.media.unpublish(data.producerId);
  return {};
};
