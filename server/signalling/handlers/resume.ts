import type { Handler } from '../Handler.js';
import { Session } from '../Session.js';
import { SignallingError } from '../SignallingError.js';

const CANNOT_RESUME = 'that participant cannot be resumed (left, expired or wrong secret); join again';

/**
 * Take back a participant whose connection dropped: the same peer, role, hand, lobby place and
 * media. What they were told while away is delivered first, on this connection, before the reply.
 * Unknown room, unknown peer and wrong secret get the same answer, so nothing can be probed.
 */
export const resume: Handler<'resume'> = async (ctx, data) => {
  ctx.session.beginJoin();
  try {
    const room = ctx.rooms.rooms.get(data.room);
    const peer = room && !room.closed ? room.peer(data.peerId) : undefined;
    if (!room || !peer || !peer.resumeSecret.matches(data.secret)) throw new SignallingError('resume_failed', CANNOT_RESUME);
    if (ctx.session.closed) throw new SignallingError('not_joined', 'connection closed');
    // Nothing below awaits: the hand-over cannot interleave with another resume or a close.
    const previous = room.reattach(peer, ctx.session);
    ctx.session.attach(room, peer);
    if (previous instanceof Session && previous !== ctx.session) previous.displace();
    return {
      resumeSecret: peer.resumeSecret.issue(),
      role: peer.role,
      permissions: peer.permissions(),
      admitted: peer.admitted,
      policy: room.policy,
      // A fresh TURN credential: the one from join may have expired while she was away.
      ...ctx.ice.iceServersFor(peer.id),
    };
  } finally {
    ctx.session.finishJoin();
  }
};
