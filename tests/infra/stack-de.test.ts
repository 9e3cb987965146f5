// Germany (Frankfurt region): everything in-country, recordings in S3 and logs in CloudWatch.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { runProgram, stackConfig, type Invoked, type Recorded } from './support/harness.js';
import { cloudConfig, expectNoPlainSecret, expectPinnedProvider, expectPoliciesPass, ingressOf, inventory, userDataOf } from './support/checks.js';

let resources: Recorded[];
let invokes: Invoked[];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  ({ resources, invokes, outputs } = await runProgram(stackConfig('Pulumi.example-de.yaml'), 'lectern', 'example-de'));
}, 60_000);

describe('example stack: Germany', () => {
  it('derives the Frankfurt region from the country and pins the one provider there', () => {
    expect(outputs.region).toBe('eu-central-1');
    expect(outputs.availabilityZone).toBe('eu-central-1a');
    expect(outputs.placementKind).toBe('region');
    expectPinnedProvider(resources, invokes, 'eu-central-1');
  });

  it('creates exactly the expected resources', () => {
    expect(inventory(resources)).toEqual({
      'pulumi:providers:aws': 1,
      'lectern:infra:Network': 1,
      'aws:ec2/vpc:Vpc': 1,
      'aws:ec2/subnet:Subnet': 1,
      'aws:ec2/internetGateway:InternetGateway': 1,
      'aws:ec2/routeTable:RouteTable': 1,
      'aws:ec2/routeTableAssociation:RouteTableAssociation': 1,
      'lectern:infra:PublicAddresses': 1,
      'aws:ec2/eip:Eip': 1,
      'lectern:infra:RegionalStore': 1,
      'aws:kms/key:Key': 2,
      'aws:kms/alias:Alias': 2,
      // The recordings' key-encryption key (issue 16): single-Region, its own.
      'lectern:infra:RecordingKey': 1,
      'aws:s3/bucket:Bucket': 1,
      'aws:s3/bucketOwnershipControls:BucketOwnershipControls': 1,
      'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': 1,
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': 1,
      'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration': 1,
      'aws:s3/bucketPolicy:BucketPolicy': 1,
      'aws:cloudwatch/logGroup:LogGroup': 1,
      'lectern:infra:TurnCredential': 1,
      'aws:ssm/parameter:Parameter': 1,
      'lectern:infra:HostRole': 1,
      'aws:iam/role:Role': 1,
      'aws:iam/rolePolicy:RolePolicy': 1,
      'aws:iam/instanceProfile:InstanceProfile': 1,
      'lectern:infra:HostFirewall': 1,
      'aws:ec2/securityGroup:SecurityGroup': 1,
      'lectern:infra:Host': 1,
      'aws:ec2/instance:Instance': 1,
      'aws:ec2/eipAssociation:EipAssociation': 1,
    });
  });

  it('opens exactly HTTPS, ACME, one media port per worker, colocated TURN, relay from the SFU only, no SSH', () => {
    const [group] = resources.filter((r) => r.type === 'aws:ec2/securityGroup:SecurityGroup');
    const ip = String(outputs.sfuPublicIp);
    expect(ingressOf(group!)).toEqual(
      [
        'tcp 80-80 from 0.0.0.0/0',
        'tcp 443-443 from 0.0.0.0/0',
        'udp 40000-40003 from 0.0.0.0/0',
        'tcp 40000-40003 from 0.0.0.0/0',
        'udp 3478-3478 from 0.0.0.0/0',
        'tcp 3478-3478 from 0.0.0.0/0',
        'tcp 5349-5349 from 0.0.0.0/0',
        `udp 49152-49999 from ${ip}/32`,
      ].sort(),
    );
  });

  it('stores recordings in a private, KMS-encrypted in-region bucket and logs with retention', () => {
    const key = resources.find((r) => r.type === 'aws:kms/key:Key' && r.name === 'lectern-store-key')!;
    expect(key.inputs.multiRegion).toBe(false);
    expect(key.inputs.enableKeyRotation).toBe(true);
    const block = resources.find((r) => r.type === 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')!;
    expect([block.inputs.blockPublicAcls, block.inputs.blockPublicPolicy, block.inputs.ignorePublicAcls, block.inputs.restrictPublicBuckets]).toEqual([true, true, true, true]);
    const logs = resources.find((r) => r.type === 'aws:cloudwatch/logGroup:LogGroup')!;
    expect(logs.inputs.retentionInDays).toBe(30);
    expect(logs.inputs.kmsKeyId, 'logs encrypted with the store key').toBe(key.arn);
    const lifecycle = resources.find((r) => r.type === 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration')!;
    expect(lifecycle.inputs.rules[0].expiration.days).toBe(365);
  });

  it('runs the host with IMDSv2 only and an encrypted root volume', () => {
    const instance = resources.find((r) => r.type === 'aws:ec2/instance:Instance')!;
    expect(instance.inputs.metadataOptions.httpTokens).toBe('required');
    expect(instance.inputs.rootBlockDevice.encrypted).toBe(true);
    expect(instance.inputs.instanceType).toBe('c5.xlarge');
  });

  it('writes a schema-valid server config with the announced Elastic IP and own TURN, and no secret', () => {
    const doc = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
    const file = doc.write_files.find((f) => f.path === '/etc/lectern/config.base.json')!;
    const config = parseConfig(JSON.parse(file.content));
    expect(config.media.announcedAddress).toBe(outputs.sfuPublicIp);
    expect(config.media.listenIp).toBe('0.0.0.0');
    expect(config.media.workers).toBe(4);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.http.publicUrl).toBe('https://lehre.example-universitaet.de');
    // No static TURN password: the server signs a credential per participant with coturn's secret,
    // read from a file the host writes at boot (never part of the config or the user-data).
    expect(config.ice.servers).toEqual([]);
    expect(config.ice.turn).toEqual({
      urls: [
        'turn:lehre.example-universitaet.de:3478?transport=udp',
        'turn:lehre.example-universitaet.de:3478?transport=tcp',
        'turns:lehre.example-universitaet.de:5349?transport=tcp',
      ],
      secretFile: '/run/lectern/turn-secret',
      credentialTtlSeconds: 7200,
    });
    const render = doc.write_files.find((f) => f.path === '/usr/local/sbin/lectern-render-config')!.content;
    expect(render).toContain(`printf '%s\\n' "$credential" > /run/lectern/turn-secret`);
    const text = JSON.stringify(doc);
    expect(text).toContain("--branch 'v0.1.0'");
    expect(text).toContain('LECTERN_CONFIG=/run/lectern/config.json');
    expect(text).toContain("--region 'eu-central-1' --name '/lectern/example-de/turn-credential'");
    expect(text).toContain(`allowed-peer-ip=${String(outputs.sfuPublicIp)}`);
    expect(text).toContain('certbot certonly');
    expect(doc.packages).toContain('coturn');
    // coturn checks the participants' credentials against the same secret (TURN REST API), no static user.
    const coturnConf = doc.write_files.find((f) => f.path === '/etc/lectern/turnserver.conf.template')!.content.split('\n');
    expect(coturnConf).toEqual(expect.arrayContaining(['use-auth-secret', 'static-auth-secret=__CREDENTIAL__']));
    expect(coturnConf.filter((line) => /^(lt-cred-mech|user=)/.test(line))).toEqual([]);
    expectNoPlainSecret(resources);
  });

  it('reports every data location in Germany, and IAM as the only global caveat', () => {
    const locations = outputs.dataLocations as Array<{ what: string; country: string; inCountry: boolean; resource?: string }>;
    expect(locations.filter((l) => !l.inCountry).map((l) => l.what)).toEqual(['IAM role and policy metadata']);
    expect(locations.find((l) => l.what === 'recordings')!.resource).toBe('lectern-store-recordings-bucket');
    expect((outputs.caveats as Array<{ id: string }>).map((c) => c.id)).toEqual(['iam-global']);
    expect(outputs.dnsRecords).toEqual([{ name: 'lehre.example-universitaet.de', type: 'A', value: outputs.sfuPublicIp }]);
  });

  it('passes every residency policy', async () => {
    await expectPoliciesPass(resources, 'DE');
  });
});
