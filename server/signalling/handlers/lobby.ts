// Lobby and room policy: permission `admit` (checked by authorization.ts before these run).
import type { Handler } from '../Handler.js';

/** Let one waiting participant, or all of them, in. */
export const admit: Handler<'admit'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return { admitted: room.admit(peer, 'all' in data ? 'all' : [data.peerId]) };
};

/** Turn a waiting participant away. */
export const deny: Handler<'deny'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.deny(peer, data.peerId);
  return {};
};

/** Lock/unlock the room, turn the lobby on/off. */
export const setRoomPolicy: Handler<'setRoomPolicy'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return room.setPolicy(peer, data);
};
