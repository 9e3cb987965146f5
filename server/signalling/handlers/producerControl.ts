import type { Handler } from '../Handler.js';

/** Mute one of my tracks: receivers get `consumerPaused`. */
export const pauseProducer: Handler<'pauseProducer'> = async (ctx, data) => {
  await ctx.session.requireJoined().peer.media.pauseProducer(data.producerId);
  return {};
};

/** Unmute one of my tracks. */
export const resumeProducer: Handler<'resumeProducer'> = async (ctx, data) => {
  await ctx.session.requireJoined().peer.media.resumeProducer(data.producerId);
  return {};
};

/** Stop one of my tracks for good. */
export const closeProducer: Handler<'closeProducer'> = async (ctx, data) => {
  ctx.session.requireJoined().peer.media.closeProducer(data.producerId);
  return {};
};
