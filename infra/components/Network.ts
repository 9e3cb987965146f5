// VPC and one public subnet in the chosen zone. A Local Zone must be opted in before a subnet can use it.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { Placement } from '../../config/residency/index.js';
import { privateSubnetCidr, publicSubnetCidr } from '../plan.js';

/** Inputs of a Network. */
export interface NetworkArgs {
  readonly placement: Placement;
  readonly provider: aws.Provider;
  /** VPC CIDR; the single subnet takes its first /24. */
  readonly cidrBlock?: string;
  /**
   * A cluster's zones (zones[0] is the placement's): one public subnet per zone for the nodes, and one
   * private subnet per zone with no route out of the VPC, for the coordination store only (none when
   * `privateSubnets` is false: Redis runs on a node).
   */
  readonly cluster?: { readonly zones: readonly string[]; readonly privateSubnets?: boolean | undefined } | undefined;
}

/** The deployment's VPC, internet gateway and one subnet in the placement's zone. */
export class Network extends pulumi.ComponentResource {
  /** The VPC's id. */
  readonly vpcId: pulumi.Output<string>;
  /** The subnet in the placement's zone. */
  readonly subnetId: pulumi.Output<string>;
  /** The public subnet of each cluster zone (index = zone index; [0] is subnetId). */
  readonly subnetIds: pulumi.Output<string>[];
  /** Private subnets (no internet route), one per cluster zone; empty without a cluster. */
  readonly privateSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:Network', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const { placement } = args;
    const cidr = args.cidrBlock ?? '10.42.0.0/16';
    const optIn = placement.optInGroup
      ? new aws.ec2.AvailabilityZoneGroup(`${name}-zone-opt-in`, { groupName: placement.optInGroup, optInStatus: 'opted-in' }, child)
      : undefined;
    const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true }, child);
    const subnet = new aws.ec2.Subnet(
      `${name}-subnet`,
      {
        vpcId: vpc.id,
        cidrBlock: cidr.replace(/^(\d+\.\d+)\.\d+\.\d+\/\d+$/, '$1.1.0/24'),
        availabilityZone: placement.availabilityZone,
        // Hosts get Elastic IPs explicitly; nothing gets a public address by accident.
        mapPublicIpOnLaunch: false,
      },
      { ...child, dependsOn: optIn ? [optIn] : [] },
    );
    const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id }, child);
    const routes = new aws.ec2.RouteTable(`${name}-routes`, { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }] }, child);
    new aws.ec2.RouteTableAssociation(`${name}-routes-subnet`, { subnetId: subnet.id, routeTableId: routes.id }, child);
    this.vpcId = vpc.id;
    this.subnetId = subnet.id;
    this.subnetIds = [subnet.id];
    this.privateSubnetIds = [];
    const zones = args.cluster?.zones ?? [];
    zones.slice(1).forEach((zone, i) => {
      const extra = new aws.ec2.Subnet(`${name}-subnet-${i + 2}`, { vpcId: vpc.id, cidrBlock: publicSubnetCidr(i + 1), availabilityZone: zone, mapPublicIpOnLaunch: false }, child);
      new aws.ec2.RouteTableAssociation(`${name}-routes-subnet-${i + 2}`, { subnetId: extra.id, routeTableId: routes.id }, child);
      this.subnetIds.push(extra.id);
    });
    if (zones.length > 0 && args.cluster?.privateSubnets !== false) {
      // No route but the VPC's own: nothing in these subnets can reach or be reached from outside it.
      const local = new aws.ec2.RouteTable(`${name}-private-routes`, { vpcId: vpc.id, routes: [] }, child);
      zones.forEach((zone, i) => {
        const priv = new aws.ec2.Subnet(`${name}-private-${i + 1}`, { vpcId: vpc.id, cidrBlock: privateSubnetCidr(i), availabilityZone: zone, mapPublicIpOnLaunch: false }, child);
        new aws.ec2.RouteTableAssociation(`${name}-private-routes-${i + 1}`, { subnetId: priv.id, routeTableId: local.id }, child);
        this.privateSubnetIds.push(priv.id);
      });
    }
    this.registerOutputs({ vpcId: this.vpcId, subnetId: this.subnetId });
  }
}
