import type { Handler } from '../Handler.js';

/** Hand the browser's DTLS fingerprint to its transport. */
export const connectTransport: Handler<'connectTransport'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  // Shape-checked by the protocol schema; the media plane validates the content and refuses bad values.
  await peer.media.connectTransport(data.transportId, data.dtlsParameters);
  return {};
};
