import type { Handler } from '../Handler.js';

/**
 * Start this participant's media over: close their transports (and so their tracks and what they
 * receive). The others see those tracks end, not the participant leave; the client then creates
 * new transports (see createTransport) and sends its tracks again.
 */
export const resetMedia: Handler<'resetMedia'> = async (ctx) => {
  const { peer } = ctx.session.requireJoined();
  peer.media.closeTransports();
  return {};
};
