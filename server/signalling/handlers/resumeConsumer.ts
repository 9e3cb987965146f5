import type { Handler } from '../Handler.js';

/**
 * The browser has attached the track: let media flow (the worker asks the sender for a keyframe).
 * In low-bandwidth mode camera consumers stay paused until the mode is turned off.
 */
export const resumeConsumer: Handler<'resumeConsumer'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  const subscription = peer.media.subscriptions.get(data.consumerId);
  if (peer.lowBandwidth && subscription?.source === 'camera') return {};
  await peer.media.resume(data.consumerId);
  return {};
};
