import type { Handler } from '../Handler.js';

/** A fresh TURN credential for the caller before the one from `join` expires (server/ice). */
export const renewIce: Handler<'renewIce'> = async (ctx) => {
  const { peer } = ctx.session.requireMember();
  return ctx.ice.iceServersFor(peer.id);
};
