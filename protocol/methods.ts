// Every signalling request a client can make: its data and its reply. One TypeBox schema per
// message is the runtime validator (server), the TypeScript type (server and client) and the doc.
// mediasoup's own parameter objects (RTP parameters, DTLS parameters, capabilities) are checked
// here for shape and size only; mediasoup validates their meaning and its errors become wire errors.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64 });
/** Opaque mediasoup object (RTP parameters etc.): must be a JSON object; mediasoup checks the rest. */
const MediasoupObject = Type.Record(Type.String(), Type.Unknown());

export const RoomName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
// No control characters: names end up in logs and other people's screens.
export const DisplayName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
export const MediaKind = Type.Union([Type.Literal('audio'), Type.Literal('video')]);
export const MediaSource = Type.Union([Type.Literal('microphone'), Type.Literal('camera'), Type.Literal('screen')]);
export const Direction = Type.Union([Type.Literal('send'), Type.Literal('recv')]);

export const IceServer = Type.Object({
  urls: Type.Array(Type.String()),
  username: Type.Optional(Type.String()),
  credential: Type.Optional(Type.String()),
});

export const ProducerInfo = Type.Object({
  id: Id,
  kind: MediaKind,
  source: MediaSource,
  paused: Type.Boolean(),
});

export const PeerInfo = Type.Object({
  id: Id,
  displayName: DisplayName,
  producers: Type.Array(ProducerInfo),
});

function method<D extends TSchema, R extends TSchema>(data: D, reply: R) {
  return { data, reply };
}

/** The request methods, by name: `data` is what the client sends, `reply` what it gets back. */
export const Methods = {
  /** Enter a room. Must be the first request; the reply carries what the client needs to load its Device. */
  join: method(
    Type.Object({ room: RoomName, displayName: DisplayName }, { additionalProperties: false }),
    Type.Object({
      peerId: Id,
      routerRtpCapabilities: MediasoupObject,
      iceServers: Type.Array(IceServer),
      iceTransportPolicy: Type.Union([Type.Literal('all'), Type.Literal('relay')]),
    }),
  ),
  /** Tell the server what this browser can decode; from then on it receives everybody's media. */
  ready: method(
    Type.Object({ rtpCapabilities: MediasoupObject }, { additionalProperties: false }),
    Type.Object({ peers: Type.Array(PeerInfo) }),
  ),
  /** Create a WebRTC transport for sending or receiving. */
  createTransport: method(
    Type.Object({ direction: Direction }, { additionalProperties: false }),
    Type.Object({
      id: Id,
      iceParameters: MediasoupObject,
      iceCandidates: Type.Array(MediasoupObject),
      dtlsParameters: MediasoupObject,
    }),
  ),
  /** Finish the DTLS handshake parameters of a transport. */
  connectTransport: method(
    Type.Object({ transportId: Id, dtlsParameters: MediasoupObject }, { additionalProperties: false }),
    Type.Object({}),
  ),
  /** Start sending a track. */
  produce: method(
    Type.Object(
      { transportId: Id, kind: MediaKind, source: MediaSource, rtpParameters: MediasoupObject },
      { additionalProperties: false },
    ),
    Type.Object({ producerId: Id }),
  ),
  /** Mute (pause) one of my producers. */
  pauseProducer: method(Type.Object({ producerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Unmute one of my producers. */
  resumeProducer: method(Type.Object({ producerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Stop sending a track for good. */
  closeProducer: method(Type.Object({ producerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Consumers start paused; the client resumes one once its track is wired up (no lost keyframe). */
  resumeConsumer: method(Type.Object({ consumerId: Id }, { additionalProperties: false }), Type.Object({})),
  /** Leave the room; the connection stays open and may join again. */
  leave: method(Type.Object({}, { additionalProperties: false }), Type.Object({})),
} as const;

export type MethodName = keyof typeof Methods;
export type RequestData<M extends MethodName> = Static<(typeof Methods)[M]['data']>;
export type ReplyData<M extends MethodName> = Static<(typeof Methods)[M]['reply']>;
export type PeerInfo = Static<typeof PeerInfo>;
export type ProducerInfo = Static<typeof ProducerInfo>;
export type MediaSource = Static<typeof MediaSource>;
export type MediaKind = Static<typeof MediaKind>;
