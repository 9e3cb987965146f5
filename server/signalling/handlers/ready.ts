import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

/** The browser's Device is loaded and its receive transport exists: show it to the room and send it media. */
export const ready: Handler<'ready'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  if (!peer.media.hasReceiveTransport) {
    throw new SignallingError('not_ready', 'create a receive transport before sending ready');
  }
  // Shape-checked by the protocol schema; the media plane's worker validates the content when consuming.
  const state = room.markReady(peer, data.rtpCapabilities);
  ctx.afterReply(() => room.consumeExisting(peer));
  ctx.afterReply(async () => room.greet(peer));
  return state;
};
