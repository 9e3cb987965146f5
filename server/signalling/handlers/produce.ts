import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

const KIND_OF_SOURCE = { microphone: 'audio', camera: 'video', screen: 'video' } as const;

/** Start sending a track; everyone else in the room gets a consumer for it. */
export const produce: Handler<'produce'> = async (ctx, data) => {
  const { room, peer } = ctx.session.requireJoined();
  if (KIND_OF_SOURCE[data.source] !== data.kind) {
    throw new SignallingError('invalid_data', `a ${data.source} track must be ${KIND_OF_SOURCE[data.source]}`);
  }
  if (peer.media.trackFor(data.source)) {
    throw new SignallingError('media_rejected', `already sending a ${data.source} track; close it first`);
  }
  // A source a moderator or lecture mode holds closed starts muted: closing a held track and
  // sending a new one must not get around "raise your hand to ask".
  const held = peer.lockedSources.has(data.source);
  // Shape-checked by the protocol schema; the media plane validates the content and refuses bad values.
  const track = await peer.media.publish(data.transportId, data.kind, data.rtpParameters, data.source, held);
  ctx.afterReply(async () => {
    // After the reply, so the browser knows the track it is told to mirror as muted.
    if (held) peer.notify('moderatorMuted', { source: data.source, canUnmute: false });
    await room.distribute(peer, track);
  });
  return { producerId: track.id };
};
