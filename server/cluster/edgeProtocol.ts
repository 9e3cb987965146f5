// The node-to-node control channel: every method a home node calls on an edge node, with the
// TypeBox schema of its body and reply. The internal listener validates each body against it
// (unknown keys and wrong types refused, naming the field) before anything runs, as the public
// signalling does. Media parameters (RTP, DTLS, capabilities) are shape-checked here and their
// content checked by the edge's mediasoup worker, like the browser's.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { RoomName } from '../../protocol/methods.js';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const MediasoupObject = Type.Record(Type.String(), Type.Unknown());
const Kind = Type.Union([Type.Literal('audio'), Type.Literal('video')]);
const Source = Type.Union([Type.Literal('microphone'), Type.Literal('camera'), Type.Literal('screen')]);
const Strict = { additionalProperties: false } as const;

const Srtp = Type.Object(
  {
    cryptoSuite: Type.Union([Type.Literal('AEAD_AES_256_GCM'), Type.Literal('AEAD_AES_128_GCM'), Type.Literal('AES_CM_128_HMAC_SHA1_80'), Type.Literal('AES_CM_128_HMAC_SHA1_32')]),
    keyBase64: Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9+/=]+$' }),
  },
  Strict,
);
const PipeEnd = Type.Object({ ip: Type.String({ minLength: 2, maxLength: 64 }), port: Type.Integer({ minimum: 1, maximum: 65535 }), srtpParameters: Srtp }, Strict);
const Ok = Type.Object({}, Strict);
const TransportInfo = Type.Object({ id: Id, iceParameters: MediasoupObject, iceCandidates: Type.Array(MediasoupObject), dtlsParameters: MediasoupObject }, Strict);

const Count = Type.Integer({ minimum: 0 });
const EdgeRouter = Type.Object(
  { worker: Count, via: Type.Union([Type.Literal('home-pipe'), Type.Literal('worker-pipe')]), tracks: Count, consumers: Count },
  Strict,
);

function method<B extends TSchema, R extends TSchema>(body: B, reply: R): { body: B; reply: R } {
  return { body, reply };
}

/** Every method of the control channel. */
export const EdgeMethods = {
  /** May this edge take one more subscriber of the room (its own media capacity)? 409 at_capacity when not. */
  reserve: method(Type.Object({ room: RoomName }, Strict), Ok),
  openPipe: method(Type.Object({ room: RoomName, pipeId: Id, home: PipeEnd }, Strict), PipeEnd),
  produce: method(
    Type.Object(
      {
        room: RoomName,
        pipeId: Id,
        track: Type.Object({ id: Id, kind: Kind, source: Source, peerId: Id, rtpParameters: MediasoupObject, paused: Type.Boolean() }, Strict),
      },
      Strict,
    ),
    Ok,
  ),
  trackState: method(Type.Object({ room: RoomName, trackId: Id, state: Type.Union([Type.Literal('paused'), Type.Literal('resumed'), Type.Literal('closed')]) }, Strict), Ok),
  closePipe: method(Type.Object({ room: RoomName, pipeId: Id }, Strict), Ok),
  pipes: method(
    Type.Object({ room: RoomName }, Strict),
    Type.Object({ pipes: Type.Array(Type.Object({ id: Id, srtp: Type.Boolean(), rtx: Type.Boolean(), producers: Type.Integer({ minimum: 0 }) }, Strict)) }, Strict),
  ),
  /** The room's routers on the edge (each on one of its workers) and how each gets its tracks, for the audit. */
  routers: method(
    Type.Object({ room: RoomName }, Strict),
    Type.Object({ routers: Type.Array(EdgeRouter) }, Strict),
  ),
  createTransport: method(Type.Object({ room: RoomName, subscriberId: Id, due: Type.Integer({ minimum: 0, maximum: 100_000 }) }, Strict), TransportInfo),
  connectTransport: method(Type.Object({ room: RoomName, transportId: Id, dtlsParameters: MediasoupObject }, Strict), Ok),
  restartIce: method(Type.Object({ room: RoomName, transportId: Id }, Strict), Type.Object({ iceParameters: MediasoupObject }, Strict)),
  consume: method(
    Type.Object({ room: RoomName, transportId: Id, trackId: Id, rtpCapabilities: MediasoupObject }, Strict),
    Type.Object({ id: Id, kind: Kind, type: Type.Union([Type.Literal('simple'), Type.Literal('simulcast'), Type.Literal('svc'), Type.Literal('pipe')]), rtpParameters: MediasoupObject, producerPaused: Type.Boolean() }, Strict),
  ),
  consumer: method(Type.Object({ room: RoomName, consumerId: Id, action: Type.Union([Type.Literal('pause'), Type.Literal('resume'), Type.Literal('close')]) }, Strict), Ok),
  preferLayers: method(
    Type.Object({ room: RoomName, consumerId: Id, spatialLayer: Type.Integer({ minimum: 0, maximum: 3 }), temporalLayer: Type.Integer({ minimum: 0, maximum: 3 }) }, Strict),
    Ok,
  ),
  closeSubscriber: method(Type.Object({ room: RoomName, subscriberId: Id }, Strict), Ok),
} as const;

export type EdgeMethodName = keyof typeof EdgeMethods;
export type EdgeBody<M extends EdgeMethodName> = Static<(typeof EdgeMethods)[M]['body']>;
export type EdgeReply<M extends EdgeMethodName> = Static<(typeof EdgeMethods)[M]['reply']>;

/** Path of a method on the internal listener. */
export function edgePath(method: EdgeMethodName): string {
  return `/internal/edge/${method}`;
}
