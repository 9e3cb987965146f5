import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

/** Enter a room (created on first join) and learn what is needed to set up media. */
export const join: Handler<'join'> = async (ctx, data) => {
  if (ctx.session.joined) throw new SignallingError('already_joined', 'this connection has already joined a room');
  const room = await ctx.rooms.getOrCreate(data.room);
  // The session may have closed while the room was being created.
  if (ctx.session.closed) throw new SignallingError('not_joined', 'connection closed');
  const peer = room.admit(data.displayName.trim() || 'Guest', ctx.session);
  ctx.session.attach(room, peer);
  const { servers, relayOnly } = ctx.config.ice;
  return {
    peerId: peer.id,
    routerRtpCapabilities: { ...room.rtpCapabilities },
    iceServers: servers,
    iceTransportPolicy: relayOnly ? 'relay' : 'all',
  };
};
