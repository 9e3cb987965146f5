// What each Pulumi resource type means for residency: does it store data, run code, keep only
// control-plane metadata, or live in a worldwide service? One list, read by config/residency/classify.ts,
// which both the policy pack (infra/residency) and the audit use. A type in no list is "not
// classified" and refused: nothing is assumed harmless because it is unknown. Every token here is
// checked against @pulumi/aws's own resource tokens (tests/audit/classify.test.ts).

/** Types that keep data at rest in the region they are created in (the data is personal until proven otherwise). */
export const REGIONAL_DATA_TYPES: ReadonlySet<string> = new Set([
  'aws:s3/bucket:Bucket',
  'aws:s3/bucketV2:BucketV2',
  'aws:s3/directoryBucket:DirectoryBucket',
  'aws:s3/bucketObject:BucketObject',
  'aws:s3/bucketObjectv2:BucketObjectv2',
  'aws:s3/objectCopy:ObjectCopy',
  // A bucket's own settings live with the bucket, so they are held to the same rule (v1 and v2 tokens).
  'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2',
  'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  'aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2',
  'aws:s3/bucketPolicy:BucketPolicy',
  'aws:s3/bucketVersioning:BucketVersioning',
  'aws:s3/bucketVersioningV2:BucketVersioningV2',
  'aws:s3/bucketAcl:BucketAcl',
  'aws:s3/bucketAclV2:BucketAclV2',
  'aws:s3/bucketCorsConfiguration:BucketCorsConfiguration',
  'aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2',
  'aws:s3/bucketLogging:BucketLogging',
  'aws:s3/bucketLoggingV2:BucketLoggingV2',
  'aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration',
  'aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2',
  'aws:s3/bucketNotification:BucketNotification',
  'aws:s3/bucketIntelligentTieringConfiguration:BucketIntelligentTieringConfiguration',
  'aws:s3/bucketReplicationConfig:BucketReplicationConfig',
  'aws:s3/inventory:Inventory',
  'aws:kms/key:Key',
  'aws:kms/externalKey:ExternalKey',
  'aws:kms/replicaKey:ReplicaKey',
  'aws:kms/replicaExternalKey:ReplicaExternalKey',
  'aws:cloudwatch/logGroup:LogGroup',
  'aws:cloudwatch/logStream:LogStream',
  'aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter',
  'aws:dynamodb/table:Table',
  'aws:dynamodb/tableItem:TableItem',
  'aws:dynamodb/tableReplica:TableReplica',
  'aws:dynamodb/globalTable:GlobalTable',
  'aws:rds/instance:Instance',
  'aws:rds/cluster:Cluster',
  'aws:rds/clusterInstance:ClusterInstance',
  'aws:rds/snapshot:Snapshot',
  'aws:rds/clusterSnapshot:ClusterSnapshot',
  'aws:rds/snapshotCopy:SnapshotCopy',
  'aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy',
  'aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication',
  'aws:rds/globalCluster:GlobalCluster',
  'aws:efs/fileSystem:FileSystem',
  'aws:efs/replicationConfiguration:ReplicationConfiguration',
  'aws:backup/vault:Vault',
  'aws:backup/logicallyAirGappedVault:LogicallyAirGappedVault',
  'aws:backup/plan:Plan',
  'aws:secretsmanager/secret:Secret',
  'aws:secretsmanager/secretVersion:SecretVersion',
  'aws:ecr/repository:Repository',
  'aws:ecr/replicationConfiguration:ReplicationConfiguration',
  'aws:sqs/queue:Queue',
  'aws:sns/topic:Topic',
  'aws:kinesis/stream:Stream',
  'aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream',
  'aws:ebs/snapshot:Snapshot',
  'aws:ebs/snapshotCopy:SnapshotCopy',
  'aws:ebs/volumeCopy:VolumeCopy',
  'aws:ec2/ami:Ami',
  'aws:ec2/amiCopy:AmiCopy',
  'aws:ec2/amiFromInstance:AmiFromInstance',
  // ElastiCache keeps its data (a cluster's registry and room directory) and its automatic snapshots
  // in the region of the group; a global datastore replicates it to other regions.
  'aws:elasticache/replicationGroup:ReplicationGroup',
  'aws:elasticache/globalReplicationGroup:GlobalReplicationGroup',
  'aws:elasticache/cluster:Cluster',
  'aws:elasticache/serverlessCache:ServerlessCache',
  'aws:docdb/globalCluster:GlobalCluster',
  'aws:neptune/globalCluster:GlobalCluster',
  'aws:memorydb/multiRegionCluster:MultiRegionCluster',
  'aws:redshift/snapshotCopy:SnapshotCopy',
  'aws:cognito/userPool:UserPool',
  'aws:cloudtrail/trail:Trail',
]);

/** Types that run code (and hold what it processes) in one zone or region. */
export const COMPUTE_TYPES: ReadonlySet<string> = new Set([
  'aws:ec2/instance:Instance',
  'aws:ec2/spotInstanceRequest:SpotInstanceRequest',
  'aws:lambda/function:Function',
  'aws:ecs/service:Service',
  'aws:autoscaling/group:Group',
  'aws:lightsail/instance:Instance',
]);

/**
 * Regional types holding only control-plane metadata or an operational secret (the TURN credential in
 * SSM: a machine credential, no personal data). Allowed in-country, and in the parent region of an
 * in-country Local Zone only when the deployment accepts that (deployment.acceptParentRegionControlPlane).
 */
export const REGIONAL_CONTROL_TYPES: ReadonlySet<string> = new Set([
  'aws:ec2/vpc:Vpc',
  'aws:ec2/subnet:Subnet',
  'aws:ec2/internetGateway:InternetGateway',
  'aws:ec2/routeTable:RouteTable',
  'aws:ec2/routeTableAssociation:RouteTableAssociation',
  'aws:ec2/route:Route',
  'aws:ec2/securityGroup:SecurityGroup',
  'aws:ec2/securityGroupRule:SecurityGroupRule',
  'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule',
  'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule',
  'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup',
  'aws:ec2/eip:Eip',
  'aws:ec2/eipAssociation:EipAssociation',
  'aws:ec2/volumeAttachment:VolumeAttachment',
  'aws:ec2/keyPair:KeyPair',
  'aws:ec2/launchTemplate:LaunchTemplate',
  'aws:ec2/networkInterface:NetworkInterface',
  'aws:ec2/natGateway:NatGateway',
  'aws:ec2/vpcEndpoint:VpcEndpoint',
  'aws:ebs/encryptionByDefault:EncryptionByDefault',
  'aws:ssm/parameter:Parameter',
  'aws:kms/alias:Alias',
  'aws:dlm/lifecyclePolicy:LifecyclePolicy',
  // ElastiCache settings and access control: metadata and machine credentials, no data.
  'aws:elasticache/subnetGroup:SubnetGroup',
  'aws:elasticache/parameterGroup:ParameterGroup',
  'aws:elasticache/user:User',
  'aws:elasticache/userGroup:UserGroup',
  'aws:elasticache/userGroupAssociation:UserGroupAssociation',
]);

/** Types placed in one zone (or zone group); their zone must be in the country. */
export const ZONAL_TYPES: ReadonlySet<string> = new Set([
  'aws:ec2/instance:Instance',
  'aws:ec2/spotInstanceRequest:SpotInstanceRequest',
  'aws:ebs/volume:Volume',
  'aws:ec2/subnet:Subnet',
  'aws:ec2/eip:Eip',
  'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup',
]);

/** Zonal types that store data (the volume itself). */
export const ZONAL_DATA_TYPES: ReadonlySet<string> = new Set(['aws:ebs/volume:Volume']);

/** IAM: a global service whose metadata (names, policies) sits outside every country; unavoidable for a host role. */
export const GLOBAL_METADATA_TYPES: ReadonlySet<string> = new Set([
  'aws:iam/role:Role',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:iam/instanceProfile:InstanceProfile',
  'aws:iam/policy:Policy',
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
]);

/** Worldwide services (control plane and edge outside every country): never allowed. Prefixes of tokens. */
export const GLOBAL_SERVICE_PREFIXES: ReadonlyArray<readonly [prefix: string, service: string]> = [
  ['aws:iam/', 'IAM'],
  ['aws:cloudfront/', 'CloudFront'],
  ['aws:globalaccelerator/', 'Global Accelerator'],
  ['aws:route53/', 'Route 53'],
  ['aws:route53domains/', 'Route 53 Domains'],
  ['aws:organizations/', 'Organizations'],
  ['aws:shield/', 'Shield'],
  ['aws:wafv2/', 'WAF'],
  ['aws:waf/', 'WAF Classic (global)'],
  ['aws:s3control/multiRegionAccessPoint', 'S3 Multi-Region Access Points'],
  ['aws:s3/bucketAccelerateConfiguration', 'S3 Transfer Acceleration (edge)'],
  ['aws:s3/bucketWebsiteConfiguration', 'S3 website hosting'],
  ['aws:networkmanager/globalNetwork', 'Network Manager'],
];

/**
 * Provider packages whose resources are computed by the Pulumi engine itself and kept only in the
 * Pulumi state (random values, locally made keys): they are where the state is.
 */
export const STATE_ONLY_PACKAGES: ReadonlySet<string> = new Set(['random', 'tls']);

/** Component packages of this program: logical groupings, no cloud resource of their own. */
export const COMPONENT_PACKAGES: ReadonlySet<string> = new Set(['lectern']);

/** Provider packages the classification can place (region/zone catalogue in catalogue.ts). */
export const PLACED_PACKAGES: ReadonlySet<string> = new Set(['aws']);

/** Every type token named above, for the token check. */
export function allClassifiedTypes(): string[] {
  return [...new Set([...REGIONAL_DATA_TYPES, ...COMPUTE_TYPES, ...REGIONAL_CONTROL_TYPES, ...ZONAL_TYPES, ...GLOBAL_METADATA_TYPES])];
}
