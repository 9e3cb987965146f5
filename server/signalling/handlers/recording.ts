// Recording: starting and stopping need permission `record`; answering the consent notice needs
// only to be in the class (authorization.ts). Room.recording enforces consent.
import type { Handler } from '../Handler.js';

/** Start recording the class; everyone is asked for consent at once. */
export const startRecording: Handler<'startRecording'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  const active = await room.recording.start(peer, data);
  return { recordingId: active.id, startedAt: active.startedAt, expiresAt: active.expiresAt };
};

/** Stop the recording. */
export const stopRecording: Handler<'stopRecording'> = async (ctx) => {
  const { room, peer } = ctx.session.requireJoined();
  return { recordingId: room.recording.stop(peer, 'stopped by an instructor') };
};

/** Consent to being recorded, or decline (any time while recording). */
export const recordingConsent: Handler<'recordingConsent'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  return room.recording.answer(peer, data.consent);
};
