// Elastic IPs are created before the hosts: the addresses go into user-data (announced IP, TURN peer)
// and into the firewall, and they survive host replacement.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { Placement } from '../../config/residency/index.js';

/** Inputs of PublicAddresses. */
export interface PublicAddressesArgs {
  readonly placement: Placement;
  /** Also allocate an address for a separate TURN host. */
  readonly separateTurn: boolean;
  readonly provider: aws.Provider;
}

/** The deployment's Elastic IPs, in the placement's network border group. */
export class PublicAddresses extends pulumi.ComponentResource {
  /** The SFU/signalling host's address. */
  readonly media: aws.ec2.Eip;
  /** The TURN host's address, when TURN runs on its own host. */
  readonly turn: aws.ec2.Eip | undefined;

  constructor(name: string, args: PublicAddressesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:PublicAddresses', name, {}, opts);
    // A Local Zone's addresses must come from the zone's border group, or they are routed via the parent region.
    const eipArgs = { domain: 'vpc', networkBorderGroup: args.placement.networkBorderGroup };
    const child = { parent: this, provider: args.provider };
    this.media = new aws.ec2.Eip(`${name}-media`, eipArgs, child);
    this.turn = args.separateTurn ? new aws.ec2.Eip(`${name}-turn`, eipArgs, child) : undefined;
    this.registerOutputs({ media: this.media.publicIp, turn: this.turn?.publicIp });
  }
}
