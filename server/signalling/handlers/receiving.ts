// What this participant receives: simulcast layer by tile size, the view (last N), low-bandwidth mode.
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
  peer.media.reception.lowBandwidth = data.enabled;
  await peer.media.applyReception();
  return {};
};

/** The video tiles on this participant's screen: only those are sent (see RoomMedia.setView). */
export const setView: Handler<'setView'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return { video: await room.setView(peer, data.video) };
};
