import type { Handler } from '../Handler.js';

/** Leave the room; the connection stays usable for another join. */
export const leave: Handler<'leave'> = async (ctx) => {
  ctx.session.requireMember();
  ctx.session.leaveRoom();
  return {};
};
