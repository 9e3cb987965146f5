// The TURN credential as an SSM SecureString the hosts read at boot, so it is never in user-data.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

/** Inputs of a TurnCredential. */
export interface TurnCredentialArgs {
  /** The credential, from the stack's secret config. */
  readonly value: pulumi.Output<string>;
  /** KMS key for the parameter; omitted, SSM uses the account's aws/ssm key in the same region. */
  readonly kmsKeyId?: pulumi.Input<string> | undefined;
  readonly provider: aws.Provider;
}

/** An SSM SecureString holding the TURN credential. */
export class TurnCredential extends pulumi.ComponentResource {
  /** Parameter name the hosts fetch. */
  readonly parameterName: pulumi.Output<string>;
  /** Parameter ARN, for the host role's policy. */
  readonly parameterArn: pulumi.Output<string>;

  constructor(name: string, args: TurnCredentialArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:TurnCredential', name, {}, opts);
    const parameter = new aws.ssm.Parameter(
      `${name}-parameter`,
      {
        name: `/lectern/${pulumi.getStack()}/turn-credential`,
        type: 'SecureString',
        value: pulumi.secret(args.value),
        keyId: args.kmsKeyId,
        description: 'Lectern TURN credential, read by the hosts at boot',
      },
      { parent: this, provider: args.provider },
    );
    this.parameterName = parameter.name;
    this.parameterArn = parameter.arn;
    this.registerOutputs({ parameterName: this.parameterName });
  }
}
