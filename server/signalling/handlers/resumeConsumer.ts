import type { Handler } from '../Handler.js';

/** The browser has attached the track: let media flow (the worker asks the sender for a keyframe). */
export const resumeConsumer: Handler<'resumeConsumer'> = async (ctx, data) => {
  await ctx.session.requireJoined().peer.media.resumeConsumer(data.consumerId);
  return {};
};
