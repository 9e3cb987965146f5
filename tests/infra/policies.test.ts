// Each residency rule is proven to fire: the real recorded graph (German example stack) is mutated
// one way per rule, and the rule must name the resource. The unmutated graph passes (stack-*.test.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { residencyResourcePolicies, residencyStackPolicies } from '../../infra/residency/policies.js';
import { runProgram, stackConfig, stackViolations, violations, type Recorded } from './support/harness.js';

let graph: Recorded[];

beforeAll(async () => {
  ({ resources: graph } = await runProgram(stackConfig('Pulumi.example-de.yaml'), 'lectern', 'policy-test'));
}, 60_000);

const policy = (name: string) => {
  const found = residencyResourcePolicies.find((p) => p.name === name);
  if (!found) throw new Error(`no policy ${name}`);
  return found;
};

/** A copy of the graph with one resource of `type` changed by `edit`. */
function mutate(type: string, edit: (r: Recorded) => void): { graph: Recorded[]; target: Recorded } {
  const copy: Recorded[] = structuredClone(graph);
  const target = copy.find((r) => r.type === type);
  if (!target) throw new Error(`no ${type} in graph`);
  edit(target);
  return { graph: copy, target };
}

function added(resource: Omit<Recorded, 'provider' | 'id' | 'urn'>): { graph: Recorded[]; target: Recorded } {
  const copy: Recorded[] = structuredClone(graph);
  const pinned = copy.find((r) => r.type.startsWith('aws:'))!.provider;
  const target: Recorded = { ...resource, provider: pinned, id: `${resource.name}-id`, urn: `urn:pulumi:policy-test::lectern::${resource.type}::${resource.name}` };
  copy.push(target);
  return { graph: copy, target };
}

async function expectFires(name: string, case_: { graph: Recorded[]; target: Recorded }, country = 'DE'): Promise<void> {
  const found = await violations(policy(name), case_.graph, country);
  expect(found.length, `${name} did not fire`).toBeGreaterThan(0);
  expect(found.some((m) => m.startsWith(`[${name}]`) && m.includes(`"${case_.target.name}"`)), found.join('\n')).toBe(true);
}

describe('residency policies fire on violations', () => {
  it('the real graph has no violations, for every rule (baseline for the cases below)', async () => {
    for (const p of residencyResourcePolicies) expect(await violations(p, graph, 'DE'), p.name).toEqual([]);
  });

  it('lectern-explicit-provider: a resource on the default provider', async () => {
    await expectFires('lectern-explicit-provider', mutate('aws:ec2/instance:Instance', (r) => (r.provider = '')));
  });

  it('lectern-provider-in-country: the provider pinned to a foreign region', async () => {
    await expectFires('lectern-provider-in-country', mutate('pulumi:providers:aws', (r) => (r.inputs.region = 'eu-west-1')));
  });

  it('lectern-provider-in-country: the same graph checked for another country', async () => {
    const found = await violations(policy('lectern-provider-in-country'), graph, 'FR');
    expect(found.length).toBeGreaterThan(0);
  });

  it('lectern-no-region-override: a per-resource region input', async () => {
    await expectFires('lectern-no-region-override', mutate('aws:s3/bucket:Bucket', (r) => (r.inputs.region = 'us-east-1')));
  });

  it('lectern-zone-in-country: a subnet in a foreign zone', async () => {
    await expectFires('lectern-zone-in-country', mutate('aws:ec2/subnet:Subnet', (r) => (r.inputs.availabilityZone = 'eu-west-1a')));
  });

  it('lectern-data-in-country: a bucket in the parent region of an in-country Local Zone (Denmark)', async () => {
    const dk = mutate('pulumi:providers:aws', (r) => (r.inputs.region = 'eu-north-1'));
    const found = await violations(policy('lectern-data-in-country'), dk.graph, 'DK');
    expect(found.some((m) => m.includes('aws:s3/bucket:Bucket') && m.includes('eu-north-1 (SE)'))).toBe(true);
    // ...while the VPC's metadata there is the accepted control-plane caveat.
    expect(found.some((m) => m.includes('aws:ec2/vpc:Vpc'))).toBe(false);
  });

  it('lectern-data-in-country: an unclassified resource type', async () => {
    await expectFires('lectern-data-in-country', added({ type: 'aws:opensearch/domain:Domain', name: 'search', inputs: {} }));
  });

  it('lectern-no-global-services: CloudFront', async () => {
    await expectFires('lectern-no-global-services', added({ type: 'aws:cloudfront/distribution:Distribution', name: 'cdn', inputs: {} }));
  });

  it('lectern-no-global-services: Global Accelerator', async () => {
    await expectFires('lectern-no-global-services', added({ type: 'aws:globalaccelerator/accelerator:Accelerator', name: 'ga', inputs: {} }));
  });

  it('lectern-no-replication: a replicated bucket', async () => {
    await expectFires('lectern-no-replication', added({ type: 'aws:s3/bucketReplicationConfig:BucketReplicationConfig', name: 'copy', inputs: { role: 'r', rules: [] } }));
  });

  it('lectern-no-replication: a DLM policy copying snapshots to another region', async () => {
    await expectFires(
      'lectern-no-replication',
      added({ type: 'aws:dlm/lifecyclePolicy:LifecyclePolicy', name: 'snapshots', inputs: { policyDetails: { schedules: [{ crossRegionCopyRules: [{ target: 'eu-west-1' }] }] } } }),
    );
  });

  it('lectern-single-region-keys: a multi-Region key', async () => {
    await expectFires('lectern-single-region-keys', mutate('aws:kms/key:Key', (r) => (r.inputs.multiRegion = true)));
  });

  it('lectern-no-public-buckets: public access block switched off', async () => {
    await expectFires('lectern-no-public-buckets', mutate('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', (r) => (r.inputs.blockPublicPolicy = false)));
  });

  it('lectern-no-public-buckets: a bucket policy allowing everyone', async () => {
    const policyDoc = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }] });
    await expectFires('lectern-no-public-buckets', mutate('aws:s3/bucketPolicy:BucketPolicy', (r) => (r.inputs.policy = policyDoc)));
  });

  it('lectern-no-public-buckets: a public-read ACL', async () => {
    await expectFires('lectern-no-public-buckets', mutate('aws:s3/bucket:Bucket', (r) => (r.inputs.acl = 'public-read')));
  });

  it('lectern-encryption-required: an unencrypted root volume', async () => {
    await expectFires('lectern-encryption-required', mutate('aws:ec2/instance:Instance', (r) => (r.inputs.rootBlockDevice.encrypted = false)));
  });

  it('lectern-encryption-required: an unencrypted EBS volume', async () => {
    await expectFires('lectern-encryption-required', added({ type: 'aws:ebs/volume:Volume', name: 'plain', inputs: { availabilityZone: 'eu-central-1a', encrypted: false } }));
  });

  it('lectern-encryption-required: a plain-text parameter and a log group without a key', async () => {
    await expectFires('lectern-encryption-required', mutate('aws:ssm/parameter:Parameter', (r) => (r.inputs.type = 'String')));
    await expectFires('lectern-encryption-required', mutate('aws:cloudwatch/logGroup:LogGroup', (r) => delete r.inputs.kmsKeyId));
  });

  it('lectern-bucket-guards: a bucket without its public access block', async () => {
    const [guards] = residencyStackPolicies;
    expect(await stackViolations(guards!, graph, 'DE')).toEqual([]);
    const without = graph.filter((r) => r.type !== 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock');
    const found = await stackViolations(guards!, without, 'DE');
    expect(found).toEqual(['[lectern-bucket-guards] aws:s3/bucket:Bucket "lectern-store-recordings": has no public access block']);
  });

  it('lectern-provider-in-country: a Local Zone parent region is refused unless the pack config accepts it', async () => {
    const dk = mutate('pulumi:providers:aws', (r) => (r.inputs.region = 'eu-north-1'));
    const refused = await violations(policy('lectern-provider-in-country'), dk.graph, 'DK');
    expect(refused.some((m) => m.includes('aws:ec2/vpc:Vpc'))).toBe(true);
    const accepted = await violations(policy('lectern-provider-in-country'), dk.graph, { country: 'DK', acceptParentRegionControlPlane: true });
    expect(accepted.some((m) => m.includes('aws:ec2/vpc:Vpc'))).toBe(false);
  });

  it('lectern-explicit-provider: a default provider as a real export names it (default_7_48_0)', async () => {
    const copy: Recorded[] = structuredClone(graph);
    const provider: Recorded = { type: 'pulumi:providers:aws', name: 'default_7_48_0', inputs: { region: 'eu-central-1' }, provider: '', id: 'd1', urn: 'urn:pulumi:policy-test::lectern::pulumi:providers:aws::default_7_48_0' };
    const target: Recorded = { type: 'aws:sqs/queue:Queue', name: 'jobs', inputs: {}, provider: `${provider.urn}::d1`, id: 'q', urn: 'urn:pulumi:policy-test::lectern::aws:sqs/queue:Queue::jobs' };
    copy.push(provider, target);
    await expectFires('lectern-explicit-provider', { graph: copy, target });
  });

  it('lectern-data-in-country: a resource of another provider package is not classified, so refused', async () => {
    await expectFires('lectern-data-in-country', added({ type: 'gcp:storage/bucket:Bucket', name: 'gcs', inputs: { location: 'EUROPE-WEST3' } }));
  });

  it('lectern-data-in-country: the current S3 bucket resources (BucketV2) are held to the country', async () => {
    await expectFires('lectern-data-in-country', added({ type: 'aws:s3/bucketV2:BucketV2', name: 'v2', inputs: { bucket: 'v2', region: 'eu-west-1' } }));
  });

  it('lectern-no-public-buckets and lectern-encryption-required: the v2 bucket resources too', async () => {
    await expectFires('lectern-no-public-buckets', added({ type: 'aws:s3/bucketV2:BucketV2', name: 'open', inputs: { bucket: 'open', acl: 'public-read' } }));
    await expectFires('lectern-no-public-buckets', added({ type: 'aws:s3/bucketAclV2:BucketAclV2', name: 'open-acl', inputs: { bucket: 'x', acl: 'public-read' } }));
    await expectFires('lectern-encryption-required', added({ type: 'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2', name: 'sse', inputs: { bucket: 'x', rules: [] } }));
  });

  it('lectern-no-replication: copy fields of any resource (table replicas, secret replicas, backup copy actions, ECR rules)', async () => {
    const cases = [
      added({ type: 'aws:dynamodb/table:Table', name: 'table', inputs: { hashKey: 'id', replicas: [{ regionName: 'us-east-1' }] } }),
      added({ type: 'aws:secretsmanager/secret:Secret', name: 'secret', inputs: { replicas: [{ region: 'eu-west-1' }] } }),
      added({ type: 'aws:backup/plan:Plan', name: 'plan', inputs: { rules: [{ ruleName: 'r', copyActions: [{ destinationVaultArn: 'arn:aws:backup:eu-west-1:1:backup-vault:v' }] }] } }),
      added({ type: 'aws:ecr/replicationConfiguration:ReplicationConfiguration', name: 'ecr', inputs: { replicationConfiguration: { rules: [{ destinations: [{ region: 'eu-west-1', registryId: '1' }] }] } } }),
      added({ type: 'aws:rds/instance:Instance', name: 'replica', inputs: { replicateSourceDb: 'main' } }),
    ];
    for (const c of cases) await expectFires('lectern-no-replication', c);
  });

  it('lectern-residency-graph: clean on the real graph', async () => {
    const graphPolicy = residencyStackPolicies.find((p) => p.name === 'lectern-residency-graph')!;
    expect(await stackViolations(graphPolicy, graph, 'DE')).toEqual([]);
  });
});
