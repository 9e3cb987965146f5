// Recordings and logs on an encrypted EBS volume inside the Local Zone: S3, KMS-held data and
// CloudWatch Logs would all live in the parent region, in another country.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { Placement } from '../../config/residency/index.js';

/** Inputs of a ZoneStore. */
export interface ZoneStoreArgs {
  readonly placement: Placement;
  readonly sizeGb: number;
  readonly provider: aws.Provider;
}

/** An encrypted data volume in the zone, attached to the media host by the program. */
export class ZoneStore extends pulumi.ComponentResource {
  /** The data volume. */
  readonly volume: aws.ebs.Volume;
  readonly #provider: aws.Provider;

  constructor(name: string, args: ZoneStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('lectern:infra:ZoneStore', name, {}, opts);
    this.volume = new aws.ebs.Volume(
      `${name}-data`,
      {
        availabilityZone: args.placement.availabilityZone,
        size: args.sizeGb,
        type: args.placement.volumeType,
        encrypted: true,
      },
      // Recordings live here: never replaced or deleted by a routine `pulumi up`.
      { parent: this, provider: args.provider, protect: true },
    );
    this.#provider = args.provider;
    this.registerOutputs({ volumeId: this.volume.id });
  }

  /** Attach the volume to the host that writes recordings and logs. */
  attachTo(name: string, instance: aws.ec2.Instance): aws.ec2.VolumeAttachment {
    return new aws.ec2.VolumeAttachment(
      `${name}-attachment`,
      { deviceName: '/dev/sdf', volumeId: this.volume.id, instanceId: instance.id },
      { parent: this, provider: this.#provider },
    );
  }
}
