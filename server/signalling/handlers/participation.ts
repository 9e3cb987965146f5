// Taking part: chat and raised hands.
import type { Handler } from '../Handler.js';

/** Post to the room chat (memory only). */
export const sendChat: Handler<'sendChat'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return { messageId: room.chat(peer, data.text).id };
};

/** Raise or lower my own hand. */
export const raiseHand: Handler<'raiseHand'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.setHand(peer.id, data.raised);
  return {};
};
