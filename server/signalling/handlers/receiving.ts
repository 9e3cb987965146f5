// What this participant receives: simulcast layer by tile size, and low-bandwidth mode.
import type { Handler } from '../Handler.js';

/** The client shows this consumer in a tile of this size: forward the layer that fits. */
export const setConsumerPreferences: Handler<'setConsumerPreferences'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  return { spatialLayer: await peer.media.preferLayer(data.consumerId, data.height) };
};

/**
 * Low-bandwidth mode, for students on weak or long-distance links: camera video stops, audio and
 * slides (screen share) keep flowing. Turning it off resumes the cameras.
 */
export const setLowBandwidth: Handler<'setLowBandwidth'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  peer.lowBandwidth = data.enabled;
  for (const subscription of [...peer.media.subscriptions.values()]) {
    if (subscription.source !== 'camera') continue;
    if (data.enabled) await peer.media.pause(subscription.id);
    else await peer.media.resume(subscription.id);
  }
  return {};
};
