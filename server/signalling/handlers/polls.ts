// Polls: opening, closing, sharing and exporting need permission `poll`; answering needs only to be
// in the class (checked by authorization.ts before these run). Room.polls keeps the state.
import type { Handler } from '../Handler.js';

/** Ask the class a question (anonymous unless `named`). */
export const openPoll: Handler<'openPoll'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return { poll: room.polls.open(peer, data) };
};

/** Answer once. */
export const answerPoll: Handler<'answerPoll'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.polls.answer(peer, data);
  return {};
};

/** Stop taking answers. */
export const closePoll: Handler<'closePoll'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return room.polls.close(peer, data.pollId);
};

/** Show the results to everyone. */
export const sharePollResults: Handler<'sharePollResults'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  room.polls.share(peer, data.pollId);
  return {};
};

/** The results as CSV (an audit entry). */
export const exportPoll: Handler<'exportPoll'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return room.polls.export(peer, data.pollId);
};
