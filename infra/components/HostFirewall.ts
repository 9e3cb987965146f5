// One security group per host, holding exactly the rules infra/firewall.ts derives from the config.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { EgressRule, IngressRule } from '../firewall.js';

/** Inputs of a HostFirewall. */
export interface HostFirewallArgs {
  readonly vpcId: pulumi.Input<string>;
  readonly rules: readonly IngressRule[];
  /** Outbound: only what infra/egress/destinations.ts lists for this host (infra/firewall.ts egressRules). */
  readonly egress: pulumi.Input<readonly EgressRule[]>;
  /** Description of the group. */
  readonly description?: string | undefined;
  /** The SFU's Elastic IP(s): the only sources allowed on TURN relay ports. */
  readonly sfuAddress: pulumi.Input<string> | pulumi.Input<string>[];
  readonly provider: aws.Provider;
}

/** A security group opening only what Lectern needs. */
export class HostFirewall extends pulumi.ComponentResource {
  /** The security group's id. */
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: HostFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:HostFirewall', name, {}, opts);
    const group = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: args.description ?? 'Lectern: only the ports the deployment needs',
        ingress: args.rules.map((rule) => ({
          protocol: rule.protocol,
          fromPort: rule.fromPort,
          toPort: rule.toPort,
          // Between the cluster's nodes: members of this same group, no address at all.
          ...(rule.source.kind === 'nodes' ? { self: true } : { cidrBlocks: cidrsOf(rule, args.sfuAddress) }),
          description: rule.description,
        })),
        // Security groups are stateful: replies to what browsers open (media to whatever port each
        // picked, signalling) need no egress rule. New outbound connections get only these.
        egress: pulumi.output(args.egress).apply((rules) =>
          rules.map((rule) => ({ protocol: rule.protocol, fromPort: rule.fromPort, toPort: rule.toPort, cidrBlocks: [rule.cidr], description: rule.description })),
        ),
      },
      { parent: this, provider: args.provider },
    );
    this.securityGroupId = group.id;
    this.registerOutputs({ securityGroupId: this.securityGroupId });
  }
}

function cidrsOf(rule: IngressRule, sfuAddress: pulumi.Input<string> | pulumi.Input<string>[]): pulumi.Input<string>[] {
  switch (rule.source.kind) {
    case 'anywhere':
      return ['0.0.0.0/0'];
    case 'cidr':
      return [rule.source.cidr];
    case 'sfu':
      return (Array.isArray(sfuAddress) ? sfuAddress : [sfuAddress]).map((a) => pulumi.interpolate`${a}/32`);
    case 'nodes':
      return [];
  }
}
