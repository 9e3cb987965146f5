// VPC and one public subnet in the chosen zone. A Local Zone must be opted in before a subnet can use it.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { Placement } from '../../config/residency/index.js';

/** Inputs of a Network. */
export interface NetworkArgs {
  readonly placement: Placement;
  readonly provider: aws.Provider;
  /** VPC CIDR; the single subnet takes its first /24. */
  readonly cidrBlock?: string;
}

/** The deployment's VPC, internet gateway and one subnet in the placement's zone. */
export class Network extends pulumi.ComponentResource {
  /** The VPC's id. */
  readonly vpcId: pulumi.Output<string>;
  /** The subnet in the placement's zone. */
  readonly subnetId: pulumi.Output<string>;

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
    this.registerOutputs({ vpcId: this.vpcId, subnetId: this.subnetId });
  }
}
