// Recordings in S3 and logs in CloudWatch, both under a single-region KMS key. Only used when the
// placement is a full region inside the country: in a Local Zone these services would be abroad.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

/** Inputs of a RegionalStore. */
export interface RegionalStoreArgs {
  readonly region: string;
  readonly recordingsRetentionDays: number;
  readonly logRetentionDays: number;
  readonly provider: aws.Provider;
}

/** In-region, encrypted, private storage for recordings and logs. */
export class RegionalStore extends pulumi.ComponentResource {
  /** Recordings bucket name. */
  readonly bucketName: pulumi.Output<string>;
  /** Recordings bucket ARN. */
  readonly bucketArn: pulumi.Output<string>;
  /** ARN of the single-region key encrypting recordings, logs and the TURN credential. */
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Log group name. */
  readonly logGroupName: pulumi.Output<string>;
  /** Log group ARN. */
  readonly logGroupArn: pulumi.Output<string>;

  constructor(name: string, args: RegionalStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:RegionalStore', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const account = aws.getCallerIdentityOutput({}, child).accountId;
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: 'Lectern recordings, logs and TURN credential',
        // A multi-Region key can be replicated to other regions: residency forbids it.
        multiRegion: false,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'AccountAdmin', Effect: 'Allow', Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
            {
              // CloudWatch Logs encrypts the group with this key only if the key policy lets it.
              Sid: 'CloudWatchLogs',
              Effect: 'Allow',
              Principal: { Service: `logs.${args.region}.amazonaws.com` },
              Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
              Resource: '*',
              Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': pulumi.interpolate`arn:aws:logs:${args.region}:${account}:*` } },
            },
          ],
        }),
      },
      child,
    );
    new aws.kms.Alias(`${name}-key-alias`, { name: `alias/lectern-${pulumi.getStack()}`, targetKeyId: key.keyId }, child);
    const bucket = new aws.s3.Bucket(`${name}-recordings`, { forceDestroy: false }, child);
    new aws.s3.BucketOwnershipControls(`${name}-recordings-ownership`, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, child);
    new aws.s3.BucketPublicAccessBlock(
      `${name}-recordings-private`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-recordings-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }] },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-recordings-retention`,
      {
        bucket: bucket.id,
        rules: [{ id: 'expire-recordings', status: 'Enabled', filter: { prefix: 'recordings/' }, expiration: { days: args.recordingsRetentionDays } }],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-recordings-tls-only`,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        }),
      },
      child,
    );
    const logs = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/lectern/${pulumi.getStack()}`, retentionInDays: args.logRetentionDays, kmsKeyId: key.arn },
      child,
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = key.arn;
    this.logGroupName = logs.name;
    this.logGroupArn = logs.arn;
    this.registerOutputs({ bucketName: this.bucketName, kmsKeyArn: this.kmsKeyArn, logGroupName: this.logGroupName });
  }
}
