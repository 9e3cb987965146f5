// The key-encryption key of recordings: a single-Region KMS key in the deployment's region, its own
// (not the store's key, whose grants serve S3, CloudWatch Logs and SSM). The media hosts wrap each
// recording's data key with it (server recording.keyWrapping, written by infra/server-config.ts),
// and the host role may use it only for Encrypt/Decrypt/GenerateDataKey under an encryption context
// naming a recording and its room, nothing else (recordingKeyPolicy.ts). A Local Zone never gets one: KMS
// there is the parent region's, in another country, so its recordings keep the local key file.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

/** Inputs of a RecordingKey. */
export interface RecordingKeyArgs {
  readonly provider: aws.Provider;
}

/** A single-Region KMS key for recordings' data keys. */
export class RecordingKey extends pulumi.ComponentResource {
  /** The key's ARN (what the server is configured with). */
  readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: RecordingKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:RecordingKey', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const account = aws.getCallerIdentityOutput({}, child).accountId;
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: 'Lectern recordings: wraps each recording data key',
        // A multi-Region key can be replicated to other regions (and countries): never.
        multiRegion: false,
        customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
        keyUsage: 'ENCRYPT_DECRYPT',
        enableKeyRotation: true,
        // Deleting it shreds every recording at once: the longest wait KMS allows.
        deletionWindowInDays: 30,
        // The account administers it; what the hosts may do is the host role's policy alone.
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [{ Sid: 'AccountAdmin', Effect: 'Allow', Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
        }),
        tags: { 'lectern:purpose': 'recordings' },
      },
      { ...child, protect: true },
    );
    new aws.kms.Alias(`${name}-alias`, { name: `alias/lectern-${pulumi.getStack()}-recordings`, targetKeyId: key.keyId }, child);
    this.keyArn = key.arn;
    this.registerOutputs({ keyArn: this.keyArn });
  }
}
