// The hosts' IAM role: read the one TURN parameter, and (in a region) write recordings and logs and
// wrap recordings' data keys with the recording key (under its encryption-context condition).
// IAM is global; names carry the stack only, no personal data.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { recordingKeyStatement } from './recordingKeyPolicy.js';

/** Inputs of a HostRole. */
export interface HostRoleArgs {
  /** The SSM parameters the hosts read at boot (the TURN credential; a cluster's Redis AUTH token). */
  readonly parameterArn: pulumi.Input<string> | pulumi.Input<string>[];
  /** Present when recordings and logs go to regional services. */
  readonly regional?: {
    readonly bucketArn: pulumi.Input<string>;
    readonly kmsKeyArn: pulumi.Input<string>;
    readonly logGroupArn: pulumi.Input<string>;
  } | undefined;
  /** The KMS key wrapping recordings' data keys, when there is one (a region placement). */
  readonly recordingKeyArn?: pulumi.Input<string> | undefined;
  readonly provider: aws.Provider;
}

/** A least-privilege instance role and profile. */
export class HostRole extends pulumi.ComponentResource {
  /** Instance profile name for the hosts. */
  readonly instanceProfileName: pulumi.Output<string>;

  constructor(name: string, args: HostRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:HostRole', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      },
      child,
    );
    const statements: pulumi.Input<Record<string, unknown>>[] = [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: args.parameterArn }];
    if (args.regional) {
      const r = args.regional;
      statements.push(
        { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListBucket'], Resource: [r.bucketArn, pulumi.interpolate`${r.bucketArn}/recordings/*`] },
        { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: r.kmsKeyArn },
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], Resource: pulumi.interpolate`${r.logGroupArn}:*` },
      );
    }
    if (args.recordingKeyArn) statements.push(recordingKeyStatement(args.recordingKeyArn));
    new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements }) }, child);
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, child);
    this.instanceProfileName = profile.name;
    this.registerOutputs({ instanceProfileName: this.instanceProfileName });
  }
}
