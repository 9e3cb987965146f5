// Moderation: permission `moderate` or `endClass` (checked by authorization.ts before these run).
// Every action is recorded by the room for the audit log.
import type { Handler } from '../Handler.js';

/** Mute someone's microphone, stop their camera or screen; they may unmute themselves. */
export const muteParticipant: Handler<'muteParticipant'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  await room.mute(peer, data.peerId, data.source, false);
  return {};
};

/** Mute every student's microphone; without allowSelfUnmute they must ask to unmute. */
export const muteAll: Handler<'muteAll'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return { muted: await room.muteAll(peer, data.allowSelfUnmute) };
};

/** Answer "ask to unmute". */
export const allowUnmute: Handler<'allowUnmute'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.allowUnmute(peer, data.peerId);
  return {};
};

/** Turn lecture mode on or off. */
export const setLectureMode: Handler<'setLectureMode'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return room.setLectureMode(peer, data.enabled);
};

/** Remove someone for the rest of the class. */
export const removeParticipant: Handler<'removeParticipant'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.expel(peer, data.peerId);
  return {};
};

/** Make someone presenter or take it back. */
export const setPresenter: Handler<'setPresenter'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.setPresenter(peer, data.peerId, data.presenter);
  return {};
};

/** Lower someone's hand. */
export const lowerHand: Handler<'lowerHand'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.setHand(data.peerId, false, peer);
  return {};
};

/** End the class for everyone. */
export const endClass: Handler<'endClass'> = async (ctx) => {
  const { room, peer } = ctx.session.requireJoined();
  // Within the request, not after the reply: the instructor is told "done" only once the ending
  // is in the audit log (everyone, the instructor too, has had roomClosed by then).
  room.end(peer);
  return {};
};
