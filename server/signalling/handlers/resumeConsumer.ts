import type { Handler } from '../Handler.js';

/**
 * The browser has attached the track: let media flow (the worker asks the sender for a keyframe),
 * unless the reception rule holds it (off screen, or a camera in low-bandwidth mode).
 */
export const resumeConsumer: Handler<'resumeConsumer'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  await peer.media.attach(data.consumerId);
  return {};
};
