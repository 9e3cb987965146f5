import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

// A browser needs one send and one receive transport; a few more allow reconnects without
// letting one connection pile up ports and memory in the worker.
const MAX_TRANSPORTS_PER_PEER = 4;

/** Open a WebRTC transport on the room's worker. */
export const createTransport: Handler<'createTransport'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  if (peer.media.transportCount >= MAX_TRANSPORTS_PER_PEER) {
    throw new SignallingError('media_rejected', `at most ${MAX_TRANSPORTS_PER_PEER} open transports per participant`);
  }
  const info = await peer.media.createTransport(data.direction);
  // A participant already in the class is starting media over (resetMedia, or the room moved to a
  // live worker): the new receive transport gets every track in the room, as `ready` did at first.
  if (data.direction === 'recv' && peer.ready) ctx.afterReply(() => room.consumeExisting(peer));
  return {
    id: info.id,
    iceParameters: { ...info.iceParameters },
    iceCandidates: info.iceCandidates.map((c) => ({ ...c })),
    dtlsParameters: { ...info.dtlsParameters },
  };
};
