// What this participant receives: simulcast layer by tile size, and low-bandwidth mode.
import type { Handler } from '../Handler.js';

/** The client shows this consumer in a tile of this size: forward the layer that fits. */
export const setConsumerPreferences: Handler<'setConsumerPreferences'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  return { spatialLayer: await peer.media.setPreferredSize(data.consumerId, data.height) };
};

/**
 * Low-bandwidth mode, for students on weak or long-distance links: camera video stops, audio and
 * slides (screen share) keep flowing. Turning it off resumes the cameras.
 */
export const setLowBandwidth: Handler<'setLowBandwidth'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  peer.lowBandwidth = data.enabled;
  for (const consumer of peer.media.consumers.values()) {
    if (consumer.appData.source !== 'camera') continue;
    if (data.enabled) await peer.media.pauseConsumer(consumer.id);
    else await peer.media.resumeConsumer(consumer.id);
  }
  return {};
};
