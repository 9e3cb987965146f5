// The three frame shapes on the signalling WebSocket, as TypeBox unions built from the method and
// notification tables. A client frame is either a request or rejected with an error frame.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Methods, type MethodName, type ReplyData } from './methods.js';
import { Notifications, type NotificationName, type NotificationData } from './notifications.js';

/** Wire error codes. Clients switch on these; the message is for people. */
export const ErrorCode = Type.Union(
  [
    'bad_frame', // not JSON, not an object, or not a known request shape
    'frame_too_large',
    'unknown_method',
    'invalid_data', // the method exists but its data does not match the schema
    'not_joined', // a room method before `join`
    'already_joined',
    'not_ready', // consuming before `ready`
    'unauthorized', // no valid sign-in, token or guest access for this room
    'forbidden', // signed in, but the role lacks the permission
    'in_lobby', // waiting to be admitted
    'locked', // the room is locked
    'removed', // removed from this class by a moderator
    'not_found', // a transport/producer/consumer id this peer does not own
    'room_full',
    'too_many_rooms', // the server has as many classes open as its operator allows
    'rate_limited',
    'media_rejected', // mediasoup refused the parameters
    'conflict', // not now: the poll is closed, already answered, breakouts already running
    'unavailable', // no media worker can take the room right now
    'at_capacity', // the university's servers are full: joining would degrade those already in
    'resume_failed', // nothing to resume (unknown, expired or wrong secret): join again
    'moved', // the class is held by another server of the cluster: `redirect` says which
    'internal',
  ].map((c) => Type.Literal(c)),
);
export type ErrorCode = Static<typeof ErrorCode>;

export const RequestId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** Every valid client frame: one object per method, discriminated by `method`. */
export const RequestFrame = Type.Union(
  (Object.keys(Methods) as MethodName[]).map((name) =>
    Type.Object(
      { kind: Type.Literal('request'), id: RequestId, method: Type.Literal(name), data: Methods[name].data as TSchema },
      { additionalProperties: false },
    ),
  ),
);

/** The outer shape of a request, checked first so a bad `data` can be answered with the request's id. */
export const RequestEnvelope = Type.Object(
  { kind: Type.Literal('request'), id: RequestId, method: Type.String({ maxLength: 64 }), data: Type.Unknown() },
  { additionalProperties: false },
);

export const WireError = Type.Object({
  code: ErrorCode,
  message: Type.String(),
  /** With `moved`: the public origin of the server holding the class; the client goes there. */
  redirect: Type.Optional(Type.String({ pattern: '^https?://[^/]+$' })),
});
export type WireError = Static<typeof WireError>;

export const ResponseFrame = Type.Union([
  Type.Object({ kind: Type.Literal('response'), id: RequestId, ok: Type.Literal(true), data: Type.Unknown() }),
  // id is null when the frame was too broken to carry one.
  Type.Object({
    kind: Type.Literal('response'),
    id: Type.Union([RequestId, Type.Null()]),
    ok: Type.Literal(false),
    error: WireError,
  }),
]);

export const NotificationFrame = Type.Union(
  (Object.keys(Notifications) as NotificationName[]).map((name) =>
    Type.Object({ kind: Type.Literal('notification'), method: Type.Literal(name), data: Notifications[name] as TSchema }),
  ),
);

export type RequestFrame = { [M in MethodName]: { kind: 'request'; id: number; method: M; data: Static<(typeof Methods)[M]['data']> } }[MethodName];
export type SuccessFrame<M extends MethodName = MethodName> = { kind: 'response'; id: number; ok: true; data: ReplyData<M> };
export type ErrorFrame = { kind: 'response'; id: number | null; ok: false; error: WireError };
export type ResponseFrame = SuccessFrame | ErrorFrame;
export type NotificationFrame = { [N in NotificationName]: { kind: 'notification'; method: N; data: NotificationData<N> } }[NotificationName];
export type ServerFrame = ResponseFrame | NotificationFrame;
