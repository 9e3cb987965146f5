// The one Lectern configuration schema. The server, the Pulumi program and the audit all read
// deployments through it, so a key means the same thing everywhere and a typo fails everywhere.
// Every object is closed (additionalProperties: false): an unknown key is an error, never ignored
// (eduMEET silently fell back to permissive defaults when its config did not load).
import { Type, type Static } from '@sinclair/typebox';
import { DeploymentSchema } from './deployment.js';
import { AuthSchema } from './auth.js';
import { RolesSchema } from './roles.js';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

/** ICE server handed to browsers. Only the deployment's own TURN belongs here. */
export const IceServerSchema = Type.Object(
  {
    urls: Type.Array(Type.String({ pattern: '^(turn|turns|stun):' }), { minItems: 1 }),
    username: Type.Optional(Type.String()),
    credential: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const HttpSchema = Type.Object(
  {
    /** Address the HTTP/WebSocket server binds. Loopback by default: nothing is exposed until asked. */
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
    /** Public origin (https://class.example.edu) when behind TLS; used for links and CSP. */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^/]+$' })),
    /** Honour X-Forwarded-* from a reverse proxy on the same host. */
    trustProxy: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, default: {} },
);

export const MediaSchema = Type.Object(
  {
    /** mediasoup workers; 0 means one per CPU core. */
    workers: Type.Integer({ minimum: 0, maximum: 256, default: 0 }),
    /** Address the WebRtcServers bind. */
    listenIp: Type.String({ default: '127.0.0.1' }),
    /** Address announced in ICE candidates (the public/Elastic IP in a deployment). */
    announcedAddress: Type.Optional(Type.String()),
    /** First media port; worker i listens on rtcPort + i, UDP and TCP (one port pair per core). */
    rtcPort: Type.Integer({ minimum: 1024, maximum: 65279, default: 40000 }),
    /** Per-transport cap on what one participant may send, in bits per second. */
    maxIncomingBitrate: Type.Integer({ minimum: 100_000, default: 3_000_000 }),
    initialAvailableOutgoingBitrate: Type.Integer({ minimum: 100_000, default: 1_000_000 }),
    /**
     * Send media through io_uring where the worker was built with it and the kernel allows it (Linux >= 6):
     * a router hands the kernel all copies of one incoming packet in one system call. Off for hosts whose
     * policy forbids io_uring; the worker also falls back by itself when the kernel refuses it.
     */
    ioUring: Type.Boolean({ default: true }),
    workerLogLevel: Type.Union([Type.Literal('debug'), Type.Literal('warn'), Type.Literal('error'), Type.Literal('none')], {
      default: 'warn',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const IceSchema = Type.Object(
  {
    /** Handed to clients verbatim. Empty by default: a local Lectern needs no relay and talks to no one. */
    servers: Type.Array(IceServerSchema, { default: [] }),
    /** Let clients use only relayed candidates (campus networks that forbid direct UDP). */
    relayOnly: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, default: {} },
);

export const RoomsSchema = Type.Object(
  {
    maxPeersPerRoom: Type.Integer({ minimum: 2, maximum: 5000, default: 500 }),
    /** A room with nobody in it is closed after this long, freeing its router. */
    emptyRoomTimeoutSeconds: Type.Integer({ minimum: 0, default: 30 }),
    /** New rooms start with the lobby on: participants without `skipLobby` wait to be admitted. */
    lobbyByDefault: Type.Boolean({ default: false }),
    /** Chat messages kept in memory per room for late joiners; never written to disk. */
    chatHistory: Type.Integer({ minimum: 0, maximum: 1000, default: 200 }),
  },
  { additionalProperties: false, default: {} },
);

export const SignallingSchema = Type.Object(
  {
    /** Largest WebSocket frame accepted; larger frames are answered with an error and dropped. */
    maxFrameBytes: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 65_536 }),
    /** Requests per second one connection may make before it is told to slow down. */
    maxRequestsPerSecond: Type.Integer({ minimum: 1, default: 50 }),
    /** Consecutive invalid frames after which a connection is closed. */
    maxInvalidFrames: Type.Integer({ minimum: 1, default: 20 }),
    /**
     * How long a participant whose connection dropped stays in the class (media kept, invisible to
     * the others as a leave) waiting for the browser to resume; after that they have left.
     */
    resumeGraceSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);

export const LogSchema = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const AuditTrailSchema = Type.Object(
  {
    /** Directory of the tamper-evident audit log (created with its signing key at first start). */
    dir: Type.String({ minLength: 1, default: '.lectern/audit' }),
  },
  { additionalProperties: false, default: {} },
);

/** Everything Lectern can be told. Every section has defaults: `{}` is a working local Lectern. */
export const LecternConfigSchema = Type.Object(
  {
    http: HttpSchema,
    media: MediaSchema,
    ice: IceSchema,
    rooms: RoomsSchema,
    signalling: SignallingSchema,
    log: LogSchema,
    /** Who may join and as what: room tokens, OpenID Connect, guests. */
    auth: AuthSchema,
    /** What each role may do in a class. */
    roles: RolesSchema,
    /** The signed, hash-chained log of who did what. */
    audit: AuditTrailSchema,
    /** Where and how a university deploys this; read by infra/ and audit/, ignored by a local server. */
    deployment: Type.Optional(DeploymentSchema),
  },
  { additionalProperties: false },
);

export type LecternConfig = Static<typeof LecternConfigSchema>;
export type IceServer = Static<typeof IceServerSchema>;
export { Port };
