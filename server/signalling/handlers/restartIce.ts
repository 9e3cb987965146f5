import type { Handler } from '../Handler.js';

/** New ICE credentials for a transport whose connection dropped (network change, UDP blocked a while). */
export const restartIce: Handler<'restartIce'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  const iceParameters = await peer.media.restartIce(data.transportId);
  return { iceParameters: { ...iceParameters } };
};
