import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

/** Mute one of my tracks: receivers get `consumerPaused`. */
export const pauseProducer: Handler<'pauseProducer'> = async (ctx, data) => {
  await ctx.session.requireJoined().peer.media.pauseProducer(data.producerId);
  return {};
};

/** Unmute one of my tracks, unless a moderator locked it (then: raise your hand and ask). */
export const resumeProducer: Handler<'resumeProducer'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  const producer = peer.media.producers.get(data.producerId);
  if (producer && peer.lockedSources.has(producer.appData.source)) {
    throw new SignallingError('forbidden', 'a moderator muted you; raise your hand to ask to unmute');
  }
  await peer.media.resumeProducer(data.producerId);
  return {};
};

/** Stop one of my tracks for good. */
export const closeProducer: Handler<'closeProducer'> = async (ctx, data) => {
  ctx.session.requireJoined().peer.media.closeProducer(data.producerId);
  return {};
};
