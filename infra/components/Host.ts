// One EC2 host: Ubuntu LTS, IMDSv2 only, encrypted root volume, a pre-allocated Elastic IP.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { Placement } from '../../config/residency/index.js';

/** Inputs of a Host. */
export interface HostArgs {
  readonly placement: Placement;
  readonly instanceType: string;
  readonly rootVolumeGb: number;
  readonly subnetId: pulumi.Input<string>;
  readonly securityGroupId: pulumi.Input<string>;
  /** More groups, e.g. the cluster nodes' shared group that opens the pipes between them. */
  readonly extraSecurityGroupIds?: readonly pulumi.Input<string>[] | undefined;
  /** Zone of its subnet when not the placement's (a cluster node in another zone). */
  readonly availabilityZone?: string | undefined;
  /** A fixed private address in its subnet (a cluster node: its peers name it before it exists). */
  readonly privateIp?: string | undefined;
  readonly instanceProfileName: pulumi.Input<string>;
  readonly address: aws.ec2.Eip;
  readonly userData: pulumi.Input<string>;
  /** Tags the audit reads (no personal data: tags are control-plane metadata). */
  readonly tags?: Readonly<Record<string, string>> | undefined;
  readonly provider: aws.Provider;
}

/** Canonical's account, which publishes the Ubuntu images. */
const CANONICAL = '099720109477';

/** An EC2 instance with its Elastic IP associated. */
export class Host extends pulumi.ComponentResource {
  /** The instance. */
  readonly instance: aws.ec2.Instance;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:Host', name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const zone = args.availabilityZone ?? args.placement.availabilityZone;
    // Local Zones offer few instance types: fail at preview, not halfway through `up`.
    const instanceType = aws.ec2
      .getInstanceTypeOfferingsOutput(
        { locationType: 'availability-zone', filters: [{ name: 'location', values: [zone] }, { name: 'instance-type', values: [args.instanceType] }] },
        child,
      )
      .apply((offerings) => {
        if (!offerings.instanceTypes.includes(args.instanceType)) {
          throw new Error(`${name}: instance type ${args.instanceType} is not offered in ${zone}; choose one that is`);
        }
        return args.instanceType;
      });
    const ami = aws.ec2.getAmiOutput(
      {
        owners: [CANONICAL],
        mostRecent: true,
        filters: [
          { name: 'name', values: ['ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*'] },
          { name: 'architecture', values: ['x86_64'] },
        ],
      },
      child,
    );
    this.instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: ami.id,
        instanceType,
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [args.securityGroupId, ...(args.extraSecurityGroupIds ?? [])],
        ...(args.privateIp !== undefined ? { privateIp: args.privateIp } : {}),
        iamInstanceProfile: args.instanceProfileName,
        userData: args.userData,
        userDataReplaceOnChange: true,
        ...(args.tags ? { tags: { ...args.tags } } : {}),
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true, volumeType: args.placement.volumeType, volumeSize: args.rootVolumeGb, deleteOnTermination: true },
      },
      // A newer Ubuntu image must not replace a running classroom host on the next `up`.
      { ...child, ignoreChanges: ['ami'] },
    );
    new aws.ec2.EipAssociation(`${name}-address`, { allocationId: args.address.allocationId, instanceId: this.instance.id }, child);
    this.registerOutputs({ instanceId: this.instance.id, publicIp: args.address.publicIp });
  }
}
