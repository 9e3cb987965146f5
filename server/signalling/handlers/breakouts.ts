// Breakout rooms: permission `breakout` (checked by authorization.ts before these run). The moves
// themselves (consumers closed and created on the same transports) happen in Room.moveToGroups.
import type { Handler } from '../Handler.js';

/** Split the class into breakout rooms. */
export const startBreakouts: Handler<'startBreakouts'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return room.breakouts.start(peer, data);
};

/** Bring everyone back. */
export const endBreakouts: Handler<'endBreakouts'> = async (ctx) => {
  const { room, peer } = ctx.session.requireJoined();
  await room.breakouts.end(peer);
  return {};
};

/** Visit a breakout room (or go back to the main room). */
export const visitBreakout: Handler<'visitBreakout'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return room.breakouts.visit(peer, data.group);
};

/** A message to every room. */
export const broadcastToBreakouts: Handler<'broadcastToBreakouts'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.breakouts.broadcast(peer, data.text);
  return {};
};
