// Where a university runs Lectern. Owned by the deploy work (infra/); the server ignores it and the
// audit reads it. Kept in the one config schema so a stack file and a server file cannot disagree.
// In a Pulumi stack this is the `lectern:deployment` key; the other `lectern:*` keys are the server's
// own sections (media, rooms, ...), validated by the same schema.
import { Type, type Static } from '@sinclair/typebox';

/** ISO 3166-1 alpha-2 country code the deployment must stay in. */
export const CountryCodeSchema = Type.String({ pattern: '^[A-Z]{2}$' });

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Hostname = Type.String({ pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$' });
const Ipv4Cidr = Type.String({
  pattern: '^((25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1?\\d?\\d)/(3[0-2]|[12]?\\d)$',
});
/** EC2 instance type, e.g. c5.xlarge. Availability in a Local Zone is checked at preview time. */
const InstanceType = Type.String({ pattern: '^[a-z][a-z0-9-]*\\.[a-z0-9]+$' });

/** Which Lectern release the hosts install. Pinned: a stack never follows a moving branch. */
export const ReleaseSchema = Type.Object(
  {
    /** Release version; the host checks out the git tag v<version>. */
    version: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?$' }),
    /** HTTPS git URL of the Lectern repository (or the university's mirror of it). */
    repository: Type.String({ pattern: '^https://[^\\s]+$' }),
  },
  { additionalProperties: false },
);

/** The SFU + signalling host. */
export const SfuHostSchema = Type.Object(
  {
    instanceType: Type.String({ ...InstanceType, default: 'c5.xlarge' }),
    rootVolumeGb: Type.Integer({ minimum: 16, maximum: 1024, default: 30 }),
    /**
     * Media nodes. 1 (the default): one host, no Redis. More: that many hosts spread over the
     * placement's zones, coordinated through an in-region managed Redis (deployment.coordination).
     */
    count: Type.Integer({ minimum: 1, maximum: 32, default: 1 }),
    /** Zones to spread the nodes over (round robin); default: the placement's zone first, then the region's others. */
    zones: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z]{2,4}(-[a-z]+)+-\\d+[a-z]?(-[a-z]{3}-\\d+[a-z])?$' }), { minItems: 1, uniqueItems: true })),
  },
  { additionalProperties: false, default: {} },
);

/** The cluster's coordination store (ElastiCache for Redis OSS), used when deployment.sfu.count > 1. */
export const CoordinationSchema = Type.Object(
  {
    nodeType: Type.String({ pattern: '^cache\\.[a-z0-9]+\\.[a-z0-9]+$', default: 'cache.t4g.small' }),
    /** Replicas besides the primary (automatic failover inside the region when >= 1). */
    replicas: Type.Integer({ minimum: 0, maximum: 5, default: 1 }),
    /** Daily snapshots kept, in the region only (0: none). */
    snapshotRetentionDays: Type.Integer({ minimum: 0, maximum: 35, default: 1 }),
  },
  { additionalProperties: false, default: {} },
);

/** The deployment's own TURN relay (coturn). Browsers are never given anyone else's. */
export const TurnSchema = Type.Object(
  {
    /** `colocated`: coturn on the SFU host. `separate`: its own host and Elastic IP. */
    mode: Type.Union([Type.Literal('colocated'), Type.Literal('separate')], { default: 'colocated' }),
    instanceType: Type.String({ ...InstanceType, default: 't3.small' }),
    /** Hostname for TURN-over-TLS; defaults to the main domain (colocated) or turn.<domain> (separate). */
    domain: Type.Optional(Hostname),
    port: Type.Integer({ ...Port, default: 3478 }),
    /** TURN over TLS. 443 only for a separate host (the colocated host serves HTTPS on 443). */
    tlsPort: Type.Integer({ ...Port, default: 5349 }),
    /** UDP relay ports coturn allocates; only the SFU's address may reach them. */
    relayPortMin: Type.Integer({ minimum: 1024, maximum: 65535, default: 49152 }),
    relayPortMax: Type.Integer({ minimum: 1024, maximum: 65535, default: 49999 }),
    /**
     * Lifetime of the TURN credential each participant gets (config `ice.turn.credentialTtlSeconds`;
     * unset, the server's default). coturn checks them against the stack secret `lectern:turnCredential`
     * (its static-auth-secret); no long-lived TURN password is ever handed to a browser.
     */
    credentialTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86_400 })),
  },
  { additionalProperties: false, default: {} },
);

/** Recordings and logs. Where they live follows from the placement (S3 in a region, EBS in a Local Zone). */
export const StorageSchema = Type.Object(
  {
    /** Recordings are deleted after this many days. */
    recordingsRetentionDays: Type.Integer({ minimum: 1, maximum: 3653, default: 365 }),
    /** Logs are deleted after this many days (CloudWatch retention value when in a region). */
    logRetentionDays: Type.Integer({ minimum: 1, maximum: 3653, default: 30 }),
    /** Size of the encrypted data volume holding recordings and logs in a Local Zone. */
    dataVolumeGb: Type.Integer({ minimum: 10, maximum: 16384, default: 200 }),
  },
  { additionalProperties: false, default: {} },
);

export const DeploymentSchema = Type.Object(
  {
    country: CountryCodeSchema,
    /**
     * A region code or Local Zone name from the country's catalogue entry (config/residency). Omitted:
     * the country's first catalogued placement. Anything outside the country is refused.
     */
    placement: Type.Optional(Type.String({ pattern: '^[a-z]{2,4}(-[a-z]+)+-\\d+(-[a-z]{3}-\\d+[a-z])?$' })),
    /** Availability Zone inside a region placement (e.g. ca-central-1b); must belong to that region. */
    availabilityZone: Type.Optional(Type.String({ pattern: '^[a-z]{2,4}(-[a-z]+)+-\\d+[a-z]$' })),
    /** Public hostname of the Lectern site; the university points its DNS A record at the output IP. */
    domain: Hostname,
    /** Contact for Let's Encrypt (expiry notices). */
    acmeEmail: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' }),
    release: ReleaseSchema,
    sfu: SfuHostSchema,
    turn: TurnSchema,
    coordination: CoordinationSchema,
    /** IPv4 CIDRs allowed to SSH in. Empty (the default): no SSH port is opened at all. */
    adminSshCidrs: Type.Array(Ipv4Cidr, { default: [], uniqueItems: true }),
    storage: StorageSchema,
    /**
     * A Local Zone's control plane (API calls, instance metadata, KMS, SSM) is its parent region, in
     * another country. The stack refuses a Local Zone until the university accepts that explicitly.
     */
    acceptParentRegionControlPlane: Type.Boolean({ default: false }),
    /**
     * What residency means for the audit. `location` (the default): data must be in the country.
     * `operator`: also, every service must be operated by someone bound only by the country's law, so a
     * US provider's in-country region fails (AWS, Inc. answers to US law wherever the data is).
     */
    jurisdiction: Type.Union([Type.Literal('location'), Type.Literal('operator')], { default: 'location' }),
  },
  { additionalProperties: false },
);

export type DeploymentConfig = Static<typeof DeploymentSchema>;
