// coturn's shared secret (its static-auth-secret) as an SSM SecureString the hosts read at boot, so it
// is never in user-data. coturn checks every TURN credential against it; the Lectern server signs a
// short-lived credential per participant with it. Browsers never see it. Rotating it (pulumi config set
// --secret lectern:turnCredential, then reboot the hosts) ends every outstanding credential at once.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

/** Inputs of a TurnCredential. */
export interface TurnCredentialArgs {
  /** The secret, from the stack's secret config `lectern:turnCredential`. */
  readonly value: pulumi.Output<string>;
  /** KMS key for the parameter; omitted, SSM uses the account's aws/ssm key in the same region. */
  readonly kmsKeyId?: pulumi.Input<string> | undefined;
  /** Last segment of the parameter name and its description, for another host secret (default: the TURN credential). */
  readonly parameter?: { readonly suffix: string; readonly description: string } | undefined;
  readonly provider: aws.Provider;
}

/** An SSM SecureString holding coturn's shared TURN secret. */
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
        name: `/lectern/${pulumi.getStack()}/${args.parameter?.suffix ?? 'turn-credential'}`,
        type: 'SecureString',
        value: pulumi.secret(args.value),
        keyId: args.kmsKeyId,
        description: args.parameter?.description ?? 'Lectern TURN secret (coturn static-auth-secret), read by the hosts at boot',
      },
      { parent: this, provider: args.provider },
    );
    this.parameterName = parameter.name;
    this.parameterArn = parameter.arn;
    this.registerOutputs({ parameterName: this.parameterName });
  }
}
