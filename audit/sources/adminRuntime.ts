// The shape of GET /admin/runtime: what a running Lectern reports about its effective configuration.
// The server serves exactly this schema (import it; Fastify's TypeBox provider serialises by it) and
// the audit validates what it receives against it. Read-only and admin-only; it carries no secrets
// (TURN credentials are reported as present or not, never their value).
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Days = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'days kept; null = kept forever' });

/** Where the server process itself runs, as the host knows it (not a label typed by an operator). */
export const RuntimeHostSchema = Type.Union([
  Type.Object(
    {
      provider: Type.Literal('aws'),
      /** From the instance metadata service (placement/region), not from config. */
      region: Type.String(),
      /** From instance metadata placement/availability-zone, e.g. eu-north-1a or eu-north-1-cph-1a. */
      availabilityZone: Type.String(),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      /** On servers the university runs: the country is the deployment's configured one. */
      provider: Type.Literal('on-premises'),
    },
    { additionalProperties: false },
  ),
  Type.Object({ provider: Type.Literal('local') }, { additionalProperties: false }),
]);

/** One socket the server (or its sidecars: coturn, nginx) listens on. */
export const RuntimeListenerSchema = Type.Object(
  {
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
    address: Type.String(),
    port: Port,
    /** `http`, `media`, `turn`, `turn-tls`, `metrics`, ... */
    purpose: Type.String(),
  },
  { additionalProperties: false },
);

/** An ICE server exactly as handed to browsers, minus the credential's value. */
export const RuntimeIceServerSchema = Type.Object(
  {
    urls: Type.Array(Type.String(), { minItems: 1 }),
    username: Type.Optional(Type.String()),
    hasCredential: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** Where one kind of data is kept. */
export const RuntimeStorageSchema = Type.Object(
  {
    kind: Type.Union(['recordings', 'logs', 'chat', 'metrics', 'audit-log'].map((k) => Type.Literal(k))),
    /** `local-disk` (a path on this host), `s3` (bucket + region), `cloudwatch` (log group + region), `memory`. */
    backend: Type.Union(['local-disk', 's3', 'cloudwatch', 'memory'].map((k) => Type.Literal(k))),
    /** Path, bucket or log group name. */
    target: Type.String(),
    /** Region of the bucket or log group as the SDK client is configured; absent for local disk/memory. */
    region: Type.Optional(Type.String()),
    encryptedAtRest: Type.Boolean(),
    retentionDays: Days,
  },
  { additionalProperties: false },
);

/** GET /admin/runtime response body. */
export const AdminRuntimeSchema = Type.Object(
  {
    /** Versions of what is running. */
    versions: Type.Object({ lectern: Type.String(), node: Type.String(), mediasoup: Type.String() }, { additionalProperties: false }),
    host: RuntimeHostSchema,
    /** The deployment's country from config, if a deployment section is set. */
    country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    http: Type.Object(
      {
        listen: Type.Object({ host: Type.String(), port: Port }, { additionalProperties: false }),
        publicUrl: Type.Optional(Type.String()),
        /** Who terminates TLS for browsers: the Lectern process, a proxy on the host (nginx), or nobody. */
        tls: Type.Union([Type.Literal('server'), Type.Literal('proxy'), Type.Literal('none')]),
        /** The Content-Security-Policy header value the server sends with pages; null when none. */
        contentSecurityPolicy: Type.Union([Type.String(), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    media: Type.Object(
      {
        listenIp: Type.String(),
        /** Addresses put into ICE candidates. */
        announcedAddresses: Type.Array(Type.String()),
        workers: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    listeners: Type.Array(RuntimeListenerSchema),
    ice: Type.Object(
      {
        servers: Type.Array(RuntimeIceServerSchema),
        relayOnly: Type.Boolean(),
        /** The TURN relay whose credentials the server mints per participant (never the secret). */
        turn: Type.Optional(
          Type.Object(
            {
              urls: Type.Array(Type.String(), { minItems: 1 }),
              /** Lifetime of each participant's credential, in seconds. */
              credentialTtlSeconds: Type.Integer({ minimum: 1 }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    storage: Type.Array(RuntimeStorageSchema),
    logs: Type.Object(
      {
        /** How client IP addresses appear in logs: in full, truncated (/24, /48) or not at all. */
        ipAddresses: Type.Union([Type.Literal('full'), Type.Literal('truncated'), Type.Literal('none')]),
        retentionDays: Days,
      },
      { additionalProperties: false },
    ),
    /** Feature switches in effect, e.g. { recording: true, chat: true, metrics: false, captions: false }. */
    features: Type.Record(Type.String(), Type.Boolean()),
    /** Where software updates come from (git remote of the release, OS package mirrors). */
    updateSources: Type.Array(Type.String()),
    /** Head of the audit log at the time of the request, for verify-log --expected-head. */
    auditLogHead: Type.Optional(Type.Object({ seq: Type.Integer({ minimum: -1 }), hash: Type.String() }, { additionalProperties: false })),
    /** The recordings the server keeps now (encrypted, one data key each, wrapped by `kekId`). */
    recordings: Type.Optional(
      Type.Object(
        {
          /** Server time of the listing: retention is judged against it. */
          checkedAt: Type.String(),
          consentPolicy: Type.Union([Type.Literal('ask'), Type.Literal('inform')]),
          defaultRetentionDays: Type.Integer({ minimum: 1 }),
          /** The key-encryption key wrapping new recordings' data keys. */
          kekId: Type.String(),
          count: Type.Integer({ minimum: 0 }),
          items: Type.Array(
            Type.Object(
              {
                id: Type.String(),
                room: Type.String(),
                startedAt: Type.String(),
                expiresAt: Type.String(),
                retentionDays: Type.Integer({ minimum: 0 }),
                active: Type.Boolean(),
                kekId: Type.String(),
                /** Participants (peer ids) whose tracks are in it: each needs a consent record in the audit log. */
                recordedPeerIds: Type.Array(Type.String()),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** What GET /admin/runtime returns. */
export type AdminRuntime = Static<typeof AdminRuntimeSchema>;
export type RuntimeStorage = Static<typeof RuntimeStorageSchema>;
export type RuntimeListener = Static<typeof RuntimeListenerSchema>;
