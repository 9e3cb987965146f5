// What each Pulumi AWS resource type means for residency. Shared by the policy pack (infra/residency)
// and the audit: both must agree on which resources hold data and which are global by nature.

/** Types whose data lives in the provider's region: the region itself must be in the country. */
export const REGIONAL_DATA_TYPES: ReadonlySet<string> = new Set([
  'aws:s3/bucket:Bucket',
  'aws:s3/bucketV2:BucketV2',
  'aws:kms/key:Key',
  'aws:cloudwatch/logGroup:LogGroup',
  'aws:dynamodb/table:Table',
  'aws:rds/instance:Instance',
  'aws:rds/cluster:Cluster',
  'aws:efs/fileSystem:FileSystem',
  'aws:backup/vault:Vault',
  'aws:secretsmanager/secret:Secret',
  'aws:ecr/repository:Repository',
  'aws:sqs/queue:Queue',
  'aws:sns/topic:Topic',
  'aws:kinesis/stream:Stream',
  'aws:firehose/deliveryStream:FirehoseDeliveryStream',
  'aws:ebs/snapshot:Snapshot',
  // A bucket's own settings: meaningful only next to the bucket, so held to the same rule.
  'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  'aws:s3/bucketPolicy:BucketPolicy',
  'aws:s3/bucketVersioning:BucketVersioning',
  'aws:s3/bucketAcl:BucketAcl',
  'aws:s3/bucketObject:BucketObject',
]);

/**
 * Regional types holding only control-plane metadata or an operational secret. Allowed in the parent
 * region of an in-country Local Zone (reported as a caveat), otherwise the region must be in-country.
 */
export const REGIONAL_CONTROL_TYPES: ReadonlySet<string> = new Set([
  'aws:ec2/vpc:Vpc',
  'aws:ec2/subnet:Subnet',
  'aws:ec2/internetGateway:InternetGateway',
  'aws:ec2/routeTable:RouteTable',
  'aws:ec2/routeTableAssociation:RouteTableAssociation',
  'aws:ec2/securityGroup:SecurityGroup',
  'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup',
  'aws:ec2/eipAssociation:EipAssociation',
  'aws:ebs/volumeAttachment:VolumeAttachment',
  'aws:ec2/volumeAttachment:VolumeAttachment',
  'aws:ssm/parameter:Parameter',
  'aws:kms/alias:Alias',
  'aws:dlm/lifecyclePolicy:LifecyclePolicy',
]);

/** Global services: their metadata sits outside every country. Used only where unavoidable (IAM). */
export const GLOBAL_METADATA_TYPES: ReadonlySet<string> = new Set([
  'aws:iam/role:Role',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:iam/instanceProfile:InstanceProfile',
  'aws:iam/policy:Policy',
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
]);

/** Token prefixes of global services (control plane and edge outside every country): never allowed. */
export const GLOBAL_SERVICE_PREFIXES: readonly string[] = [
  'aws:cloudfront/',
  'aws:globalaccelerator/',
  'aws:route53/',
  'aws:s3control/multiRegionAccessPoint',
  'aws:wafv2/',
  'aws:cognito/',
  'aws:s3/bucketAccelerateConfiguration',
  'aws:s3/bucketWebsiteConfiguration',
];

/** Types whose purpose is copying data to another region: never allowed. */
export const REPLICATION_TYPES: ReadonlySet<string> = new Set([
  'aws:s3/bucketReplicationConfig:BucketReplicationConfig',
  'aws:dynamodb/globalTable:GlobalTable',
  'aws:dynamodb/tableReplica:TableReplica',
  'aws:rds/globalCluster:GlobalCluster',
  'aws:ecr/replicationConfiguration:ReplicationConfiguration',
  'aws:ebs/snapshotCopy:SnapshotCopy',
  'aws:ec2/amiCopy:AmiCopy',
  'aws:kms/replicaKey:ReplicaKey',
  'aws:kms/replicaExternalKey:ReplicaExternalKey',
]);

/** Types placed in one zone; their zone (or border group) must be in the country. */
export const ZONAL_TYPES: ReadonlySet<string> = new Set([
  'aws:ec2/instance:Instance',
  'aws:ebs/volume:Volume',
  'aws:ec2/subnet:Subnet',
  'aws:ec2/eip:Eip',
  'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup',
]);
