import type { Handler } from '../Handler.js';
import type { mediasoupTypes } from '../../../sfu/index.js';

/** Hand the browser's DTLS fingerprint to its transport. */
export const connectTransport: Handler<'connectTransport'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  // Shape-checked by the protocol schema; mediasoup validates the content and refuses bad values.
  await peer.media.connectTransport(data.transportId, data.dtlsParameters as mediasoupTypes.DtlsParameters);
  return {};
};
