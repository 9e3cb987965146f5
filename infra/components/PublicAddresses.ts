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
  /** Media nodes (default 1); with several, each gets its own address, named after the node. */
  readonly mediaNodes?: readonly string[] | undefined;
  readonly provider: aws.Provider;
}

/** The deployment's Elastic IPs, in the placement's network border group. */
export class PublicAddresses extends pulumi.ComponentResource {
  /** The SFU/signalling host's address (the first node's, in a cluster). */
  readonly media: aws.ec2.Eip;
  /** Every media node's address, in node order ([0] is `media`). */
  readonly medias: aws.ec2.Eip[];
  /** The TURN host's address, when TURN runs on its own host. */
  readonly turn: aws.ec2.Eip | undefined;

  constructor(name: string, args: PublicAddressesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:PublicAddresses', name, {}, opts);
    // A Local Zone's addresses must come from the zone's border group, or they are routed via the parent region.
    const eipArgs = { domain: 'vpc', networkBorderGroup: args.placement.networkBorderGroup };
    const child = { parent: this, provider: args.provider };
    const nodes = args.mediaNodes ?? [];
    this.medias = nodes.length > 1 ? nodes.map((node) => new aws.ec2.Eip(`${name}-${node}`, eipArgs, child)) : [new aws.ec2.Eip(`${name}-media`, eipArgs, child)];
    this.media = this.medias[0]!;
    this.turn = args.separateTurn ? new aws.ec2.Eip(`${name}-turn`, eipArgs, child) : undefined;
    this.registerOutputs({ media: this.media.publicIp, turn: this.turn?.publicIp });
  }
}
