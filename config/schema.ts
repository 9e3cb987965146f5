// The one Lectern configuration schema. The server, the Pulumi program and the audit all read
// deployments through it, so a key means the same thing everywhere and a typo fails everywhere.
// Every object is closed (additionalProperties: false): an unknown key is an error, never ignored
// (eduMEET silently fell back to permissive defaults when its config did not load).
import { Type, type Static } from '@sinclair/typebox';
import { DeploymentSchema } from './deployment.js';
import { AuthSchema } from './auth.js';
import { RolesSchema } from './roles.js';
import { LtiSchema } from './lti.js';
import { ClusterSchema, MetricsSchema, PipePortsSchema } from './cluster.js';
import { RecordingSchema } from './recording.js';

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
    /** Serve the client's source maps (/assets/*.map): for development only, they publish the source layout. */
    sourceMaps: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, default: {} },
);

/**
 * What one media worker carries, for placement and admission, counted in what its consumers forward
 * (each weighs the measured packet and bit rate of the track or layer it sends; a paused one
 * nothing; a track not measured yet a conservative default). The defaults are measured on the bench
 * machine (2-core AMD EPYC; bench "capacity of one worker", bench/results/2026-11-29T00-08-38.json):
 * one worker forwarded 1 -> 400 (800 consumers, 68,000 packets/s, ~450 Mbit/s) with 0 loss at
 * 85-100 % of its core and lost packets at 1 -> 450; about a quarter is kept spare for what browsers
 * cost beyond the bench's plain subscribers (RTCP, bandwidth estimation, NACKs, simulcast
 * switching). Re-measure (`npm run bench -- --only=capacity`) on another machine kind and set these
 * from it. The same defaults are sfu/Capacity.ts DEFAULT_CAPACITY.
 */
export const MediaCapacitySchema = Type.Object(
  {
    /**
     * Packets per second one worker forwards without loss to plain subscribers (68,000 measured, a
     * quarter spare); the server admits joins up to this per live worker, a packet to a browser
     * counted `estimatorPacketCost` times.
     */
    packetsPerWorker: Type.Integer({ minimum: 1, default: 50_000 }),
    /**
     * What a packet to a subscriber whose transport estimates its bandwidth (every browser:
     * transport-cc) costs the worker, in packets to a plain subscriber: 1.5-1.6 measured (16.1-17.2
     * against 9.7-10.6 µs of the core per packet at 1 -> 300 in the capacity bench, estimator on and
     * off, A-B-B-A; sfu/Capacity.ts).
     */
    estimatorPacketCost: Type.Number({ minimum: 1, maximum: 10, default: 1.5 }),
    /** Bits per second one worker sends without loss (~450 Mbit/s measured at 68,000 packets/s, a quarter spare). */
    sendBitratePerWorker: Type.Integer({ minimum: 1, default: 340_000_000 }),
    /**
     * Consumers one worker holds, forwarding or paused: a bound on their fixed cost (4,000 paused
     * ones: +26 MB resident and 2 % of the worker's core, measured); five times the 800 the bench
     * forwarded at full rate, and what a 160-participant class with pages of 25 holds on one worker.
     */
    consumersPerWorker: Type.Integer({ minimum: 1, default: 4_000 }),
    /** Share of its core (measured) above which a worker takes no new rooms or subscribers. */
    cpuCeiling: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.85 }),
    /** A room's router forwarding (or due to forward) this many packets/s sends new subscribers to a router on another worker (half a worker). */
    roomSpreadPackets: Type.Integer({ minimum: 1, default: 25_000 }),
    /** ...or holding (or due to hold) this many consumers (half a worker's ceiling). */
    roomSpreadConsumers: Type.Integer({ minimum: 1, default: 2_000 }),
    /** How often each worker's CPU and sent bitrate, and each track's packet rate, are measured. */
    loadSampleMs: Type.Integer({ minimum: 100, default: 2000 }),
    /**
     * Share of the capacity kept for instructors and presenters (roles that may moderate or share a
     * screen): a student's join is refused once the rest is taken, theirs only when all of it is.
     */
    reservedForInstructors: Type.Number({ minimum: 0, maximum: 0.9, default: 0.1 }),
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
    /** What a worker carries (placement, room spreading, admission). */
    capacity: MediaCapacitySchema,
    /** Ports of the pipes between cluster nodes (on the private address); absent: the cluster default. */
    pipe: Type.Optional(PipePortsSchema),
  },
  { additionalProperties: false, default: {} },
);

/**
 * The deployment's own TURN relay, with credentials that expire (coturn's TURN REST API scheme:
 * `use-auth-secret` + `static-auth-secret`). The server signs a fresh credential for every join and
 * every renewal; a browser never holds a password that outlives its class.
 */
export const TurnRelaySchema = Type.Object(
  {
    /** turn:/turns: URLs of the relay, e.g. `turns:turn.example.edu:5349?transport=tcp`. */
    urls: Type.Array(Type.String({ pattern: '^turns?:' }), { minItems: 1 }),
    /** coturn's `static-auth-secret`, inline. Give exactly one of `secret` and `secretFile`. */
    secret: Type.Optional(Type.String({ minLength: 32 })),
    /** A file holding the secret (first line), read once at start-up: keeps the secret out of the config file. */
    secretFile: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * How long a minted credential may open new relay allocations. coturn checks the expiry when a
     * browser authenticates an allocation, so a credential must outlast the first ICE gathering and
     * any ICE restart before the next renewal; the client renews well before expiry, and a resumed
     * session gets a new one. Two hours covers a double lecture with its break without renewal; a
     * leaked credential is worthless after that.
     */
    credentialTtlSeconds: Type.Integer({ minimum: 60, maximum: 86_400, default: 7200 }),
  },
  { additionalProperties: false },
);

export const IceSchema = Type.Object(
  {
    /**
     * Handed to clients verbatim. Empty by default: a local Lectern needs no relay and talks to no one.
     * For the deployment's TURN use `turn` (credentials that expire); a static TURN password here never
     * expires and the audit reports it.
     */
    servers: Type.Array(IceServerSchema, { default: [] }),
    /** The deployment's TURN relay; each participant gets a short-lived credential of its own. */
    turn: Type.Optional(TurnRelaySchema),
    /** Let clients use only relayed candidates (campus networks that forbid direct UDP). */
    relayOnly: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, default: {} },
);

export const RoomsSchema = Type.Object(
  {
    maxPeersPerRoom: Type.Integer({ minimum: 2, maximum: 5000, default: 500 }),
    /** Classes open at once on this server (each is a media router); a join that would open one more is refused. */
    maxRooms: Type.Integer({ minimum: 1, default: 1000 }),
    /** New classes one signalling connection may open per minute (joining an open class is not counted). */
    maxCreatedPerConnectionPerMinute: Type.Integer({ minimum: 1, default: 10 }),
    /** New classes one client address may open per minute; generous, as a campus may sit behind one NAT address. */
    maxCreatedPerAddressPerMinute: Type.Integer({ minimum: 1, default: 120 }),
    /** A room with nobody in it is closed after this long, freeing its router. */
    emptyRoomTimeoutSeconds: Type.Integer({ minimum: 0, default: 30 }),
    /** New rooms start with the lobby on: participants without `skipLobby` wait to be admitted. */
    lobbyByDefault: Type.Boolean({ default: false }),
    /** Chat messages kept in memory per room for late joiners; never written to disk. */
    chatHistory: Type.Integer({ minimum: 0, maximum: 1000, default: 200 }),
    /** How long before breakout rooms end by themselves everyone is warned (shorter durations: at the start). */
    breakoutWarningSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 60 }),
    /**
     * Most video consumers one participant holds, whatever the client asks (last N): the gallery
     * shows a page of at most this many; tracks off the page are paused, and past the cap closed.
     */
    maxVideoConsumers: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
    /**
     * New rooms start in lecture mode: students and guests join with microphone muted and camera off
     * and may open them only once an instructor allows them (instructors and presenters are exempt).
     * Instructors turn it on and off in the class.
     */
    lectureMode: Type.Boolean({ default: false }),
    /**
     * In every room, when more microphones are open in the class (or in one breakout room) than
     * this, only this many of the loudest are forwarded; instructors and presenters are always
     * forwarded on top. 0 forwards every open microphone.
     */
    forwardedSpeakers: Type.Integer({ minimum: 0, maximum: 100, default: 3 }),
  },
  { additionalProperties: false, default: {} },
);

export const SignallingSchema = Type.Object(
  {
    /** Largest WebSocket frame accepted; larger frames are answered with an error and dropped. */
    maxFrameBytes: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 65_536 }),
    /** Requests per second one connection may make before it is told to slow down (the client retries). */
    maxRequestsPerSecond: Type.Integer({ minimum: 1, default: 50 }),
    /**
     * Frames and bytes per second one connection may send, counted before a frame is parsed, so
     * junk costs the server nothing past these. Frames beyond them are dropped unread and count as
     * invalid. Joining takes ~20 KiB; the defaults leave a wide margin for honest clients. The frame
     * budget used is never below maxRequestsPerSecond.
     */
    maxFramesPerSecond: Type.Integer({ minimum: 1, default: 100 }),
    maxBytesPerSecond: Type.Integer({ minimum: 1024, default: 262_144 }),
    /**
     * Invalid or dropped frames a connection may send per minute (a burst of this many at once)
     * before it is closed. Valid frames in between do not reset the count.
     */
    maxInvalidFrames: Type.Integer({ minimum: 1, default: 20 }),
    /**
     * New signalling connections one client address may open per minute (a burst of this many at
     * once); more get HTTP 429. A campus NAT opens hundreds when a lecture starts: keep it generous.
     */
    maxConnectionsPerAddressPerMinute: Type.Integer({ minimum: 1, default: 600 }),
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
    /** Courses in the university's LMS that open their class in Lectern (LTI 1.3). */
    lti: LtiSchema,
    /** Recording classes: consent policy, where recordings are kept and for how long. */
    recording: RecordingSchema,
    /** Where and how a university deploys this; read by infra/ and audit/, ignored by a local server. */
    deployment: Type.Optional(DeploymentSchema),
    /** Several nodes coordinated through Redis. Absent: one process, no Redis (the embedded default). */
    cluster: Type.Optional(ClusterSchema),
    /** A Prometheus endpoint on its own listener. Absent: no metrics listener at all. */
    metrics: Type.Optional(MetricsSchema),
  },
  { additionalProperties: false },
);

export type LecternConfig = Static<typeof LecternConfigSchema>;
export type IceServer = Static<typeof IceServerSchema>;
export type IceConfig = Static<typeof IceSchema>;
export type TurnRelayConfig = Static<typeof TurnRelaySchema>;
export { Port };
