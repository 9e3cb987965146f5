import type { Handler } from '../Handler.js';
import { SignallingError } from '../SignallingError.js';

/**
 * Enter a room (created on first join). Who you are comes from the room token, the sign-in
 * session or guest access; whether you are in at once or wait in the lobby comes from the room.
 */
export const join: Handler<'join'> = async (ctx, data) => {
  ctx.session.beginJoin();
  const started = performance.now();
  try {
    const reply = await enter(ctx, data);
    ctx.metrics.observeJoin((performance.now() - started) / 1000);
    return reply;
  } finally {
    ctx.session.finishJoin();
  }
};

const enter: Handler<'join'> = async (ctx, data) => {
  const identity = await ctx.identities.resolve(data.room, data.token, ctx.session.signIn);
  // One owner per room: in a cluster, a class held by another node is joined there (a redirect).
  await ctx.cluster.route(data.room);
  const room = await ctx.rooms.getOrCreate(data.room, ctx.session.requester);
  // The session may have closed while the room was being created.
  if (ctx.session.closed) throw new SignallingError('not_joined', 'connection closed');
  // A name from the university's sign-in or a signed link beats a typed one: students cannot pose as others.
  const displayName = identity.displayName ?? (data.displayName.trim() || 'Guest');
  // Cluster-wide admission: past this node's share, the participant receives on an in-country edge
  // node with room; only when none has room is the join refused (by room.enter: at_capacity).
  const edge = ctx.rooms.edges && room.isFullFor(identity.role) ? await ctx.rooms.edges.place(data.room) : undefined;
  if (ctx.session.closed) throw new SignallingError('not_joined', 'connection closed');
  const peer = room.enter(displayName, identity, ctx.session, edge);
  ctx.session.attach(room, peer);
  return {
    peerId: peer.id,
    role: peer.role,
    permissions: peer.permissions(),
    admitted: peer.admitted,
    policy: room.policy,
    routerRtpCapabilities: { ...room.rtpCapabilities },
    // A TURN credential of this participant's own, expiring (server/ice).
    ...ctx.ice.iceServersFor(peer.id),
    resumeSecret: peer.resumeSecret.issue(),
    ...(ctx.cluster.failoverAfterSeconds !== undefined ? { failoverAfterSeconds: ctx.cluster.failoverAfterSeconds } : {}),
  };
};
