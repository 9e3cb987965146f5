import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

// A browser needs one send and one receive transport; a few more allow reconnects without
// letting one connection pile up ports and memory in the worker.
const MAX_TRANSPORTS_PER_PEER = 4;

/** Open a WebRTC transport on the room's worker. */
export const createTransport: Handler<'createTransport'> = async (ctx, data) => {
  const { peer } = ctx.session.requireJoined();
  if (peer.media.transportCount >= MAX_TRANSPORTS_PER_PEER) {
    throw new SignallingError('media_rejected', `at most ${MAX_TRANSPORTS_PER_PEER} open transports per participant`);
  }
  const info = await peer.media.createTransport(data.direction);
  return {
    id: info.id,
    iceParameters: { ...info.iceParameters },
    iceCandidates: info.iceCandidates.map((c) => ({ ...c })),
    dtlsParameters: { ...info.dtlsParameters },
  };
};
