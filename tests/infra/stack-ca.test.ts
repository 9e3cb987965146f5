// Canada (Calgary, chosen among two regions) with a separate TURN host on 443 and admin SSH.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { runProgram, stackConfig, type Invoked, type Recorded } from './support/harness.js';
import { cloudConfig, expectNoPlainSecret, expectPinnedProvider, expectPoliciesPass, ingressOf, inventory, userDataOf } from './support/checks.js';

let resources: Recorded[];
let invokes: Invoked[];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  ({ resources, invokes, outputs } = await runProgram(stackConfig('Pulumi.example-ca.yaml'), 'lectern', 'example-ca'));
}, 60_000);

describe('example stack: Canada (ca-west-1, separate TURN)', () => {
  it('pins the provider to the chosen Canadian region', () => {
    expect(outputs.region).toBe('ca-west-1');
    expect(outputs.availabilityZone).toBe('ca-west-1a');
    expectPinnedProvider(resources, invokes, 'ca-west-1');
  });

  it('creates two hosts, two addresses and two security groups', () => {
    expect(inventory(resources)).toMatchObject({
      'aws:ec2/instance:Instance': 2,
      'aws:ec2/eip:Eip': 2,
      'aws:ec2/eipAssociation:EipAssociation': 2,
      'aws:ec2/securityGroup:SecurityGroup': 2,
      'aws:s3/bucket:Bucket': 1,
      'aws:kms/key:Key': 2,
      'aws:cloudwatch/logGroup:LogGroup': 1,
    });
    const types = resources.filter((r) => r.type === 'aws:ec2/instance:Instance').map((r) => r.inputs.instanceType).sort();
    expect(types).toEqual(['c6i.2xlarge', 't3.small']);
  });

  it('splits the rules: media on the SFU host, TURN (TLS on 443) on its host, SSH only from the admin CIDR', () => {
    const sfu = String(outputs.sfuPublicIp);
    const media = resources.find((r) => r.type === 'aws:ec2/securityGroup:SecurityGroup' && r.name === 'lectern-media-sg')!;
    const turn = resources.find((r) => r.type === 'aws:ec2/securityGroup:SecurityGroup' && r.name === 'lectern-turn-sg')!;
    expect(ingressOf(media)).toEqual(
      ['tcp 80-80 from 0.0.0.0/0', 'tcp 443-443 from 0.0.0.0/0', 'udp 40000-40007 from 0.0.0.0/0', 'tcp 40000-40007 from 0.0.0.0/0', 'tcp 22-22 from 192.0.2.0/24'].sort(),
    );
    expect(ingressOf(turn)).toEqual(
      [
        'tcp 80-80 from 0.0.0.0/0',
        'udp 3478-3478 from 0.0.0.0/0',
        'tcp 3478-3478 from 0.0.0.0/0',
        'tcp 443-443 from 0.0.0.0/0',
        `udp 49152-49999 from ${sfu}/32`,
        'tcp 22-22 from 192.0.2.0/24',
      ].sort(),
    );
  });

  it('points the server at its own TURN host and the TURN host at the SFU only', () => {
    const media = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
    const config = parseConfig(JSON.parse(media.write_files.find((f) => f.path === '/etc/lectern/config.base.json')!.content));
    expect(config.ice.turn!.urls).toEqual([
      'turn:turn.classes.example-university.ca:3478?transport=udp',
      'turn:turn.classes.example-university.ca:3478?transport=tcp',
      'turns:turn.classes.example-university.ca:443?transport=tcp',
    ]);
    expect(config.ice.turn!.credentialTtlSeconds).toBe(5400);
    expect(config.rooms.maxPeersPerRoom).toBe(300);
    expect(media.packages).not.toContain('coturn');
    const turn = JSON.stringify(cloudConfig(userDataOf(resources, 'lectern-turn-instance')));
    expect(turn).toContain(`allowed-peer-ip=${String(outputs.sfuPublicIp)}`);
    expect(turn).toContain(`external-ip=${String(outputs.turnPublicIp)}/__PRIVATE_IP__`);
    expect(turn).toContain("-d 'turn.classes.example-university.ca'");
    expect(turn).toContain('static-auth-secret=__CREDENTIAL__');
    expect(turn).not.toContain('lt-cred-mech');
    expectNoPlainSecret(resources);
    expect(outputs.dnsRecords).toEqual([
      { name: 'classes.example-university.ca', type: 'A', value: outputs.sfuPublicIp },
      { name: 'turn.classes.example-university.ca', type: 'A', value: outputs.turnPublicIp },
    ]);
  });

  it('passes every residency policy for CA', async () => {
    await expectPoliciesPass(resources, 'CA');
  });
});
