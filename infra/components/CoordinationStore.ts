// The cluster's coordination store: ElastiCache for Redis OSS in the deployment's own region, in its
// private subnets, reachable only from the media nodes' security group, TLS in transit, encrypted at
// rest, an AUTH token from the stack's secret, snapshots kept in the region. Never part of a global
// datastore: the registry and room directory (node ids, addresses, room names) stay in the country.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

/** Inputs of a CoordinationStore. */
export interface CoordinationStoreArgs {
  readonly vpcId: pulumi.Input<string>;
  /** The private subnets (no route out of the VPC), one per zone the nodes use. */
  readonly subnetIds: readonly pulumi.Input<string>[];
  /** Zones of those subnets: the primary goes to the first, replicas to the others. */
  readonly zones: readonly string[];
  /** The media nodes' shared security group: the only source allowed on the Redis port. */
  readonly nodesSecurityGroupId: pulumi.Input<string>;
  readonly port: number;
  readonly nodeType: string;
  readonly replicas: number;
  readonly snapshotRetentionDays: number;
  /** The AUTH token, from the stack secret `lectern:redisAuthToken`. */
  readonly authToken: pulumi.Output<string>;
  /** The single-region KMS key of the deployment, for encryption at rest (absent: the AWS-managed key, in the region). */
  readonly kmsKeyArn?: pulumi.Input<string> | undefined;
  readonly provider: aws.Provider;
}

/**
 * ElastiCache's AUTH token rule, also applied to Redis on a host (where the token is one ACL word):
 * checked at preview rather than halfway through `up`; the value is never printed.
 */
export function checkedRedisToken(name: string, token: string): string {
  if (!/^[\x21-\x7e]{16,128}$/.test(token) || /["'\/@]/.test(token)) {
    throw new Error(`${name}: lectern:redisAuthToken must be 16-128 printable ASCII characters without spaces, quotes, / or @ (e.g. openssl rand -hex 32)`);
  }
  return token;
}

/** An in-region, encrypted, private Redis replication group. */
export class CoordinationStore extends pulumi.ComponentResource {
  /** Hostname of the primary endpoint (TLS). */
  readonly endpoint: pulumi.Output<string>;
  /** The store's security group. */
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: CoordinationStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:CoordinationStore', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const group = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: 'Lectern coordination store: the Redis port from the media nodes only',
        ingress: [{ protocol: 'tcp', fromPort: args.port, toPort: args.port, securityGroups: [args.nodesSecurityGroupId], description: 'Redis (TLS) from the media nodes' }],
        // Redis opens no connection of its own.
        egress: [],
      },
      child,
    );
    const subnets = new aws.elasticache.SubnetGroup(`${name}-subnets`, { description: 'Lectern coordination store: private subnets only', subnetIds: [...args.subnetIds] }, child);
    const clusters = 1 + args.replicas;
    const failover = clusters > 1;
    const replication = new aws.elasticache.ReplicationGroup(
      `${name}-redis`,
      {
        description: 'Lectern cluster registry, room directory and locks',
        engine: 'redis',
        engineVersion: '7.1',
        nodeType: args.nodeType,
        port: args.port,
        numCacheClusters: clusters,
        automaticFailoverEnabled: failover,
        multiAzEnabled: failover && args.zones.length > 1,
        preferredCacheClusterAzs: Array.from({ length: clusters }, (_, i) => args.zones[i % args.zones.length]!),
        subnetGroupName: subnets.name,
        securityGroupIds: [group.id],
        transitEncryptionEnabled: true,
        transitEncryptionMode: 'required',
        atRestEncryptionEnabled: true,
        ...(args.kmsKeyArn !== undefined ? { kmsKeyId: args.kmsKeyArn } : {}),
        // ElastiCache's own rule, checked at preview rather than halfway through `up`; the value is never printed.
        authToken: pulumi.secret(
          args.authToken.apply((token) => checkedRedisToken(name, token)),
        ),
        // Snapshots stay in the region (ElastiCache keeps automatic backups where the group is).
        snapshotRetentionLimit: args.snapshotRetentionDays,
        ...(args.snapshotRetentionDays > 0 ? { snapshotWindow: '03:00-04:00' } : {}),
        autoMinorVersionUpgrade: true,
        applyImmediately: false,
      },
      child,
    );
    this.endpoint = replication.primaryEndpointAddress;
    this.securityGroupId = group.id;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
