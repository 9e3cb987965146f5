// The cluster and metrics sections. Absent, Lectern is one process with no Redis and no extra
// listener: the embedded default does not change. Cross-field rules (url or host, password or
// passwordFile, TTL above the heartbeat) are checked where the section is used, at start-up
// (server/cluster/coordinatorConfig.ts), like the TURN secret.
import { Type, type Static } from '@sinclair/typebox';
import { CountryCodeSchema } from './deployment.js';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

/** Port of the node-to-node control listener when the config names none (cluster.internal.port). */
export const DEFAULT_INTERNAL_PORT = 7443;
/** UDP ports of the PipeTransports between nodes when the config names none (media.pipe). */
export const DEFAULT_PIPE_PORTS = { portMin: 44000, portMax: 44099 } as const;

/** UDP port range the SRTP PipeTransports between nodes bind (media.pipe). */
export const PipePortsSchema = Type.Object(
  {
    portMin: Type.Integer({ minimum: 1024, maximum: 65535 }),
    portMax: Type.Integer({ minimum: 1024, maximum: 65535 }),
  },
  { additionalProperties: false },
);

/** The coordination store. Give `url` or `host` (+ `port`). */
export const RedisSchema = Type.Object(
  {
    /** redis:// or rediss:// (TLS). Credentials belong in `passwordFile`, not in the URL. */
    url: Type.Optional(Type.String({ pattern: '^rediss?://[^\\s]+$' })),
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    port: Type.Optional(Port),
    /** TLS to Redis (ElastiCache in-transit encryption). A rediss:// URL implies it. */
    tls: Type.Boolean({ default: false }),
    /**
     * PEM file of the CA that signed the server's certificate, read once at start-up, trusted instead
     * of the system's CAs (Redis on a host with a private CA: infra/tls/redisTls.ts). Needs TLS.
     */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    /** A file holding the password (first line), read once at start-up. */
    passwordFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Prefix of every key, so one Redis can serve several deployments without their keys meeting. */
    keyPrefix: Type.String({ pattern: '^[a-z0-9:_-]{1,32}$', default: 'lectern:' }),
  },
  { additionalProperties: false },
);

/** Where a node runs: the country, and (on AWS) the region and zone, as the infra derives them. */
export const NodePlacementSchema = Type.Object(
  {
    country: CountryCodeSchema,
    region: Type.Optional(Type.String({ pattern: '^[a-z]{2,4}(-[a-z]+)+-\\d+$' })),
    zone: Type.Optional(Type.String({ pattern: '^[a-z]{2,4}(-[a-z]+)+-\\d+[a-z]?(-[a-z]{3}-\\d+[a-z])?$' })),
  },
  { additionalProperties: false },
);

export const ClusterSchema = Type.Object(
  {
    /** Absent: the node coordinates with nobody (in-memory directory), still checked for residency. */
    redis: Type.Optional(RedisSchema),
    /** Unique per node, stable across restarts. */
    nodeId: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    advertise: Type.Object(
      {
        /** Where browsers reach this node's signalling (redirects point here); default: http.publicUrl, else the listen address. */
        signallingUrl: Type.Optional(Type.String({ pattern: '^https?://[^/]+$' })),
        /** The host's private address, for pipes between nodes. */
        privateAddress: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      },
      { additionalProperties: false, default: {} },
    ),
    /** How often the node refreshes its registry entry. */
    heartbeatSeconds: Type.Number({ minimum: 0.1, maximum: 60, default: 2 }),
    /** A node not heard from for this long is dropped and its rooms get a new home. */
    ttlSeconds: Type.Number({ minimum: 0.3, maximum: 600, default: 6 }),
    /** Participants this node takes; load = participants / capacity. Default: 500 per media worker. */
    capacityParticipants: Type.Optional(Type.Integer({ minimum: 1 })),
    /** On SIGTERM: how long the node keeps answering (with redirects) after asking its participants to move. */
    drainSeconds: Type.Number({ minimum: 0, maximum: 600, default: 10 }),
    placement: NodePlacementSchema,
    /**
     * Rooms bigger than a node: the node-to-node control listener on the host's private address
     * (never the public listener), over which a room's home node sets up SRTP pipes (ports:
     * media.pipe) and edge subscribers on other nodes. Absent, this node neither pipes its rooms nor
     * serves as an edge for others'. Served by server/cluster/EdgeNode.ts; checked at start-up by
     * server/cluster/edgeSettings.ts.
     */
    internal: Type.Optional(
      Type.Object(
        {
          /** The private address the listener and the pipe ends bind. */
          host: Type.String({ minLength: 1, maxLength: 64 }),
          port: Type.Integer({ minimum: 1, maximum: 65535, default: DEFAULT_INTERNAL_PORT }),
          /** File holding the cluster secret (first line, at least 32 characters), the same on every node; required at start-up. */
          secretFile: Type.Optional(Type.String({ minLength: 1 })),
          /** Edge subscribers this node takes for other nodes' rooms (0: it is never an edge). Default 500. */
          edgeSubscribers: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const MetricsSchema = Type.Object(
  {
    /** Loopback by default: metrics are for the operator's scraper, not for the internet. */
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  },
  // No default for the section itself: `metrics: {}` turns the listener on, absence keeps it off.
  { additionalProperties: false },
);

export type RedisConfig = Static<typeof RedisSchema>;
export type NodePlacement = Static<typeof NodePlacementSchema>;
export type ClusterConfig = Static<typeof ClusterSchema>;
export type MetricsConfig = Static<typeof MetricsSchema>;
