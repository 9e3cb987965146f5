import type { Handler } from '../Handler.js';

/**
 * The browser has attached the track: let media flow (the worker asks the sender for a keyframe).
 * In low-bandwidth mode camera consumers stay paused until the mode is turned off.
 */
export const resumeConsumer: Handler<'resumeConsumer'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  const consumer = peer.media.consumers.get(data.consumerId);
  if (peer.lowBandwidth && consumer?.appData.source === 'camera') return {};
  await peer.media.resumeConsumer(data.consumerId);
  return {};
};
