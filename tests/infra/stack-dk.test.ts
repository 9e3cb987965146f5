// Denmark (Copenhagen Local Zone, parent Stockholm): hosts, recordings and logs in Denmark on EBS;
// control plane, EBS key and TURN credential in Sweden, accepted explicitly and reported.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { INSTANCE_TYPE_OFFERINGS, runProgram, stackConfig, type Invoked, type Recorded } from './support/harness.js';
import { cloudConfig, expectNoPlainSecret, expectPinnedProvider, expectPoliciesPass, ingressOf, inventory, userDataOf } from './support/checks.js';

let resources: Recorded[];
let invokes: Invoked[];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  ({ resources, invokes, outputs } = await runProgram(stackConfig('Pulumi.example-dk.yaml'), 'lectern', 'example-dk'));
}, 60_000);

describe('example stack: Denmark (Copenhagen Local Zone)', () => {
  it('places hosts in the Copenhagen zone with the provider pinned to the parent region', () => {
    expect(outputs.placementName).toBe('eu-north-1-cph-1a');
    expect(outputs.region).toBe('eu-north-1');
    expectPinnedProvider(resources, invokes, 'eu-north-1');
    const optIn = resources.find((r) => r.type === 'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup')!;
    expect(optIn.inputs).toMatchObject({ groupName: 'eu-north-1-cph-1', optInStatus: 'opted-in' });
    expect(resources.find((r) => r.type === 'aws:ec2/subnet:Subnet')!.inputs.availabilityZone).toBe('eu-north-1-cph-1a');
    expect(resources.find((r) => r.type === 'aws:ec2/eip:Eip')!.inputs.networkBorderGroup).toBe('eu-north-1-cph-1');
    const offering = invokes.find((i) => i.token === 'aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings')!;
    expect(offering.inputs.filters).toContainEqual({ name: 'location', values: ['eu-north-1-cph-1a'] });
  });

  it('creates no S3, KMS key or CloudWatch log group (they would be in Sweden); data on an encrypted zone volume', () => {
    const types = inventory(resources);
    for (const type of ['aws:s3/bucket:Bucket', 'aws:kms/key:Key', 'aws:cloudwatch/logGroup:LogGroup']) expect(types[type], type).toBeUndefined();
    expect(types).toMatchObject({
      'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup': 1,
      'aws:ebs/volume:Volume': 1,
      'aws:ec2/volumeAttachment:VolumeAttachment': 1,
      'aws:ec2/instance:Instance': 1,
      'aws:ec2/eip:Eip': 1,
      'aws:ssm/parameter:Parameter': 1,
    });
    expect(Object.keys(types).sort()).toEqual(
      [
        'pulumi:providers:aws',
        'lectern:infra:Network',
        'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup',
        'aws:ec2/vpc:Vpc',
        'aws:ec2/subnet:Subnet',
        'aws:ec2/internetGateway:InternetGateway',
        'aws:ec2/routeTable:RouteTable',
        'aws:ec2/routeTableAssociation:RouteTableAssociation',
        'lectern:infra:PublicAddresses',
        'aws:ec2/eip:Eip',
        'lectern:infra:ZoneStore',
        'aws:ebs/volume:Volume',
        'aws:ec2/volumeAttachment:VolumeAttachment',
        'lectern:infra:TurnCredential',
        'aws:ssm/parameter:Parameter',
        'lectern:infra:HostRole',
        'aws:iam/role:Role',
        'aws:iam/rolePolicy:RolePolicy',
        'aws:iam/instanceProfile:InstanceProfile',
        'lectern:infra:HostFirewall',
        'aws:ec2/securityGroup:SecurityGroup',
        'lectern:infra:Host',
        'aws:ec2/instance:Instance',
        'aws:ec2/eipAssociation:EipAssociation',
      ].sort(),
    );
    const volume = resources.find((r) => r.type === 'aws:ebs/volume:Volume')!;
    expect(volume.inputs).toMatchObject({ availabilityZone: 'eu-north-1-cph-1a', encrypted: true, type: 'gp2', size: 500 });
    const doc = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
    expect(doc.write_files.map((f) => f.path)).toContain('/usr/local/sbin/lectern-mount-data');
    expect(JSON.stringify(doc)).toContain('nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0');
    expect(JSON.stringify(doc)).not.toContain('s3://');
  });

  it('opens exactly the intended ports and no SSH', () => {
    const [group] = resources.filter((r) => r.type === 'aws:ec2/securityGroup:SecurityGroup');
    expect(ingressOf(group!)).toEqual(
      [
        'tcp 80-80 from 0.0.0.0/0',
        'tcp 443-443 from 0.0.0.0/0',
        'udp 40000-40003 from 0.0.0.0/0',
        'tcp 40000-40003 from 0.0.0.0/0',
        'udp 3478-3478 from 0.0.0.0/0',
        'tcp 3478-3478 from 0.0.0.0/0',
        'tcp 5349-5349 from 0.0.0.0/0',
        `udp 49152-49999 from ${String(outputs.sfuPublicIp)}/32`,
      ].sort(),
    );
  });

  it('announces the Elastic IP and keeps the TURN secret out of user-data', () => {
    const doc = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
    const config = parseConfig(JSON.parse(doc.write_files.find((f) => f.path === '/etc/lectern/config.base.json')!.content));
    expect(config.media.announcedAddress).toBe(outputs.sfuPublicIp);
    expect(config.ice.servers).toEqual([]);
    expect(config.ice.turn!.secret).toBeUndefined();
    expect(config.ice.turn!.secretFile).toBe('/run/lectern/turn-secret');
    expectNoPlainSecret(resources);
    // No worker may lock io_uring send buffers: all copy (zero-copy costs more for RTP-sized packets).
    expect(doc.write_files.find((f) => f.path === '/etc/systemd/system/lectern.service')!.content).toMatch(/^LimitMEMLOCK=1M$/m);
  });

  it('reports Sweden-held items as accepted caveats and keeps recordings and logs in Denmark', () => {
    const locations = outputs.dataLocations as Array<{ what: string; country: string; inCountry: boolean }>;
    expect(locations.filter((l) => ['hosts', 'recordings', 'logs'].includes(l.what)).every((l) => l.country === 'DK')).toBe(true);
    expect(locations.filter((l) => !l.inCountry).map((l) => `${l.what}:${l.country}`)).toEqual([
      'encryption keys:SE',
      'TURN credential:SE',
      'control plane:SE',
      'IAM role and policy metadata:global',
    ]);
    expect((outputs.caveats as Array<{ id: string }>).map((c) => c.id)).toContain('parent-region-control-plane');
  });

  it('passes every residency policy for DK', async () => {
    await expectPoliciesPass(resources, (outputs.policyPackConfig as { all: { country: string; acceptParentRegionControlPlane?: boolean } }).all);
  });

  it('fails the program when the instance type is not offered in the Copenhagen zone', async () => {
    const base = stackConfig('Pulumi.example-dk.yaml');
    const deployment = JSON.parse(base['lectern:deployment']!);
    // Offered in Frankfurt's and Calgary's zones, not in Copenhagen's Local Zone.
    deployment.sfu.instanceType = 'c6i.2xlarge';
    expect(INSTANCE_TYPE_OFFERINGS['eu-north-1-cph-1a']).not.toContain('c6i.2xlarge');
    expect(INSTANCE_TYPE_OFFERINGS['eu-central-1a']).toContain('c6i.2xlarge');
    const refused = runProgram({ ...base, 'lectern:deployment': JSON.stringify(deployment) }, 'lectern', 'example-dk-refused');
    await expect(refused).rejects.toThrow('lectern-media: instance type c6i.2xlarge is not offered in eu-north-1-cph-1a; choose one that is');
  }, 60_000);
});
