// Default deny, per check: one input that fires and one that stays quiet, on the clean fixture with
// one thing changed. The generated sweeps (sweep-*.test.ts) cover every resource; these name each rule.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit, parseFailOn, verdictOf } from '../../audit/audit.js';
import { main } from '../../audit/cli.js';
import { renderHtml } from '../../audit/report/html.js';
import { renderJson, renderText } from '../../audit/report/text.js';
import { parseAuditConfig } from '../../audit/sources/configFile.js';
import { parseStackExport } from '../../audit/sources/stackExport.js';
import { allClassifiedTypes, classifyResource, GLOBAL_SERVICE_PREFIXES } from '../../config/residency/index.js';
import type { AuditInputs } from '../../audit/model/types.js';
import { completeFixture, defectFixture, FIXTURES } from './helpers/fixtures.js';

type State = { urn: string; type: string; id?: string; custom?: boolean; inputs?: Record<string, unknown>; outputs?: Record<string, unknown>; provider?: string };
const cleanExport = (): { version: number; deployment: { resources: State[]; secrets_providers?: unknown } } => JSON.parse(readFileSync(join(FIXTURES, 'clean', 'stack.json'), 'utf8'));
const PROVIDER = 'urn:pulumi:se::lectern::pulumi:providers:aws::aws-eu-north-1::8c2a7e0e-4a55-4b0f-9d3e-1b2c3d4e5f60';

/** Clean inputs with the stack export changed by `edit`. */
function withStack(edit: (resources: State[]) => void, config?: Record<string, unknown>): AuditInputs {
  const inputs = completeFixture('clean');
  const json = cleanExport();
  edit(json.deployment.resources);
  inputs.stack = { source: 'edited/stack.json', export: parseStackExport(json) };
  if (config) inputs.config = parseAuditConfig(config, 'edited/lectern.json');
  return inputs;
}
const added = (type: string, name: string, inputs: Record<string, unknown>, provider = PROVIDER): State => ({ urn: `urn:pulumi:se::lectern::${type}::${name}`, type, id: `${name}-id`, custom: true, inputs, outputs: inputs, provider });
const highs = (inputs: AuditInputs, rule: string): string[] => audit(inputs).findings.filter((f) => f.rule === rule && f.severity === 'high').map((f) => `${f.title} | ${f.evidence}`);
const clean = audit(completeFixture('clean'));
const quiet = (rule: string): void => expect(clean.findings.filter((f) => f.rule === rule && f.severity !== 'info')).toEqual([]);

describe('the one classification', () => {
  it('names only resource tokens that exist in @pulumi/aws', () => {
    const dir = join(import.meta.dirname, '..', '..', 'node_modules', '@pulumi', 'aws');
    const tokens = new Set<string>();
    const seen = (file: string): void => {
      for (const m of readFileSync(file, 'utf8').matchAll(/__pulumiType = '([^']+)'/g)) tokens.add(m[1]!);
    };
    for (const entry of readFileSync(join(dir, 'package.json'), 'utf8') ? allClassifiedTypes() : []) {
      const [pkg, rest] = entry.split(':');
      const module = rest!.split('/')[0]!;
      const file = rest!.split('/')[1]!.split(':')[0]!;
      seen(join(dir, module, `${file}.js`));
      expect(tokens.has(entry), `${entry} (package ${pkg})`).toBe(true);
    }
    for (const [prefix] of GLOBAL_SERVICE_PREFIXES) expect(prefix.startsWith('aws:')).toBe(true);
  });

  it('classifies by what a resource does: a copy field anywhere makes a copy; a boolean like copyTagsToSnapshot does not', () => {
    const rds = (props: Record<string, unknown>) => classifyResource({ type: 'aws:rds/instance:Instance', name: 'db', props, provider: { type: 'pulumi:providers:aws', name: 'p', urn: 'u', props: { region: 'eu-north-1' } } });
    expect(rds({ copyTagsToSnapshot: true }).copies).toEqual([]);
    expect(rds({ replicateSourceDb: 'main' }).copies.map((c) => c.via)).toEqual(['replicateSourceDb']);
    expect(rds({ replicateSourceDb: 'arn:aws:rds:eu-west-1:1:db:main' }).touches.map((t) => t.place.country)).toEqual(['IE']);
  });
});

describe('every resource of every provider package is judged', () => {
  it('resource-not-classified: an AWS type nobody checked fires; the clean stack is quiet', () => {
    expect(highs(withStack((rs) => rs.push(added('aws:opensearch/domain:Domain', 'search', { domainName: 's' }))), 'resource-not-classified')).toHaveLength(1);
    quiet('resource-not-classified');
  });

  it('resource-not-classified: a resource of another provider package is high, not skipped', () => {
    const gcp = withStack((rs) => {
      rs.push({ urn: 'urn:pulumi:se::lectern::pulumi:providers:gcp::gcp', type: 'pulumi:providers:gcp', id: 'g', custom: true, inputs: { region: 'europe-north1' } });
      rs.push(added('gcp:storage/bucket:Bucket', 'gcs', { location: 'EUROPE-NORTH1' }, 'urn:pulumi:se::lectern::pulumi:providers:gcp::gcp::g'));
    });
    expect(highs(gcp, 'resource-not-classified').length).toBe(2);
    // Engine-computed values live only in the state: placed with the state, not a finding.
    const random = withStack((rs) => rs.push(added('random:index/randomPassword:RandomPassword', 'pw', { length: 32 }, '')));
    expect(audit(random).findings.filter((f) => f.severity === 'high')).toEqual([]);
  });

  it('resource-outside-country: a VPC (control metadata, no personal-data tag) moved abroad is high', () => {
    const moved = withStack((rs) => (rs.find((r) => r.type === 'aws:ec2/vpc:Vpc')!.inputs!.region = 'eu-central-1'));
    expect(highs(moved, 'resource-outside-country').some((t) => t.includes('lectern-vpc'))).toBe(true);
    quiet('resource-outside-country');
  });

  it('resource-outside-country: an untagged bucket named "cache" abroad is high whatever its name', () => {
    const cache = withStack((rs) => rs.push(added('aws:s3/bucketV2:BucketV2', 'cache', { bucket: 'cache', region: 'us-east-1' })));
    expect(highs(cache, 'resource-outside-country').some((t) => t.includes('cache is outside SE'))).toBe(true);
    expect(audit(cache).model.flows.find((f) => f.label.includes('cache'))).toMatchObject({ personalData: true, location: { country: 'US' } });
  });

  it('location-not-established: a resource whose provider sets no region', () => {
    const noRegion = withStack((rs) => {
      const p = rs.find((r) => r.type === 'pulumi:providers:aws')!;
      delete p.inputs!.region;
      delete p.outputs!.region;
    });
    expect(highs(noRegion, 'location-not-established').length).toBeGreaterThan(5);
    quiet('location-not-established');
  });

  it('default-provider: fires on a real `pulumi stack export` shape (a default_7_48_0 provider resource)', () => {
    const real = withStack((rs) => {
      rs.push({ urn: 'urn:pulumi:se::lectern::pulumi:providers:aws::default_7_48_0', type: 'pulumi:providers:aws', id: 'd1', custom: true, inputs: { region: 'eu-north-1' }, outputs: { region: 'eu-north-1' } });
      rs.push(added('aws:sqs/queue:Queue', 'jobs', { name: 'jobs' }, 'urn:pulumi:se::lectern::pulumi:providers:aws::default_7_48_0::d1'));
    });
    expect(highs(real, 'default-provider')).toEqual([expect.stringContaining('aws:sqs/queue:Queue jobs')]);
    quiet('default-provider');
  });

  it('cross-region-copy: each real AWS copy mechanism fires; the clean stack is quiet', () => {
    const mechanisms: State[] = [
      added('aws:dynamodb/table:Table', 't', { hashKey: 'id', replicas: [{ regionName: 'eu-west-1' }] }),
      added('aws:dynamodb/globalTable:GlobalTable', 'g', { name: 'g', replicas: [{ regionName: 'us-east-1' }] }),
      added('aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication', 'b', { sourceDbInstanceArn: 'arn:aws:rds:eu-west-1:1:db:x' }),
      added('aws:ecr/replicationConfiguration:ReplicationConfiguration', 'e', { replicationConfiguration: { rules: [{ destinations: [{ region: 'eu-west-1', registryId: '1' }] }] } }),
      added('aws:backup/plan:Plan', 'p', { rules: [{ ruleName: 'r', copyActions: [{ destinationVaultArn: 'arn:aws:backup:eu-west-1:1:backup-vault:v' }] }] }),
      added('aws:kms/replicaKey:ReplicaKey', 'k', { primaryKeyArn: 'arn:aws:kms:eu-north-1:1:key/mrk-1', region: 'eu-west-1' }),
      added('aws:secretsmanager/secret:Secret', 's', { name: 's', replicas: [{ region: 'eu-west-1' }] }),
      added('aws:ec2/amiCopy:AmiCopy', 'a', { sourceAmiId: 'ami-1', sourceAmiRegion: 'eu-west-1', name: 'c' }),
      added('aws:ebs/snapshotCopy:SnapshotCopy', 'c', { sourceSnapshotId: 'snap-1', sourceRegion: 'eu-west-1' }),
      added('aws:s3/bucketReplicationConfig:BucketReplicationConfig', 'r', { bucket: 'lectern-recordings-se-7f3a', role: 'x', rules: [{ status: 'Enabled', destination: { bucket: 'arn:aws:s3:::elsewhere' } }] }),
    ];
    for (const m of mechanisms) {
      const inputs = withStack((rs) => rs.push(m));
      // A copy that lands abroad is the resource abroad; one sent from here is a cross-region copy.
      const found = [...highs(inputs, 'cross-region-copy'), ...highs(inputs, 'resource-outside-country')].filter((t) => t.includes(m.type));
      expect(found.length, m.type).toBeGreaterThan(0);
    }
    quiet('cross-region-copy');
  });

  it('cross-region-copy: a replication whose destination bucket is in the stack and in the country is quiet', () => {
    const local = withStack((rs) => {
      rs.push({ ...added('aws:s3/bucketV2:BucketV2', 'dr', { bucket: 'lectern-dr-se' }), outputs: { bucket: 'lectern-dr-se', arn: 'arn:aws:s3:::lectern-dr-se' } });
      rs.push(added('aws:s3/bucketReplicationConfig:BucketReplicationConfig', 'r', { bucket: 'lectern-recordings-se-7f3a', role: 'x', rules: [{ status: 'Enabled', destination: { bucket: 'arn:aws:s3:::lectern-dr-se' } }] }));
    });
    expect(highs(local, 'cross-region-copy')).toEqual([]);
  });

  it('metadata-outside-country: Route 53 is high like CloudFront (the pack refuses both); IAM stays medium', () => {
    const zone = withStack((rs) => rs.push(added('aws:route53/zone:Zone', 'zone', { name: 'example-uni.se' })));
    expect(highs(zone, 'metadata-outside-country')).toHaveLength(1);
    expect(clean.findings.filter((f) => f.rule === 'metadata-outside-country').map((f) => f.severity)).toEqual(['medium']);
  });

  it('flow-outside-country: the Pulumi secrets key abroad is high', () => {
    const inputs = withStack(() => {});
    const json = cleanExport();
    json.deployment.secrets_providers = { type: 'cloud', state: { url: 'awskms://alias/state?region=us-east-1' } };
    inputs.stack = { source: 'edited', export: parseStackExport(json) };
    expect(highs(inputs, 'flow-outside-country').some((t) => t.startsWith('Pulumi secrets key'))).toBe(true);
  });
});

describe('any number of hosts', () => {
  it('models, checks and draws three media hosts, two TURN hosts and another host', () => {
    const many = withStack((rs) => {
      const instance = rs.find((r) => r.type === 'aws:ec2/instance:Instance')!;
      const clone = (name: string, zone: string, tags?: Record<string, string>): State => ({ ...structuredClone(instance), urn: instance.urn.replace('lectern-sfu', name), id: `${name}-id`, inputs: { ...instance.inputs, availabilityZone: zone, ...(tags ? { tags } : {}) }, outputs: { ...instance.outputs, availabilityZone: zone } });
      rs.push(clone('lectern-media-2', 'eu-north-1b'), clone('edge-3', 'eu-central-1a', { 'lectern:role': 'media' }), clone('lectern-turn-1', 'eu-north-1a'), clone('lectern-turn-2', 'eu-north-1c'), clone('bastion', 'eu-north-1a'));
    });
    const report = audit(many);
    expect(report.model.hosts.map((h) => `${h.role} ${h.name}`).sort()).toEqual(['media edge-3', 'media lectern-media-2', 'media lectern-sfu', 'other bastion', 'turn lectern-turn-1', 'turn lectern-turn-2']);
    expect(report.model.flows.filter((f) => f.kind === 'media')).toHaveLength(3);
    expect(report.model.flows.filter((f) => f.kind === 'turn')).toHaveLength(2);
    expect(report.model.flows.filter((f) => f.kind === 'compute').map((f) => f.label)).toEqual(['Host bastion']);
    // The third media host is in Germany: its media flow is high.
    expect(highs(many, 'flow-outside-country')).toContainEqual(expect.stringContaining('Media (SFU) edge-3 is in DE'));
    const html = renderHtml(report);
    expect(html.match(/<g class="flow/g)).toHaveLength(report.model.flows.length);
    for (const label of ['Media (SFU) edge-3', 'TURN relay (coturn) lectern-turn-2', 'Host bastion']) expect(html).toContain(`<title>${label}\n`);
  });
});

describe('no false positives on Lectern’s own output: secrets by value', () => {
  const withConfig = (patch: Record<string, unknown>): AuditInputs => ({ config: parseAuditConfig(patch, 'x.json') });
  const secretRules = (inputs: AuditInputs): string[] => audit(inputs).findings.filter((f) => /secret/.test(f.rule)).map((f) => `${f.rule} ${f.evidence}`);

  it('a section named tokens with the default issuer "lectern", a public key and a TURN username are not secrets', () => {
    const key = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----';
    expect(secretRules(withConfig({ auth: { tokens: { issuer: 'lectern', audience: 'lectern', trustedKeys: [{ alg: 'EdDSA', publicKey: key, issuer: 'lms', audience: 'lectern' }] } }, ice: { servers: [{ urls: ['turn:127.0.0.1:3478'], username: 'lectern' }] } }))).toEqual([]);
  });

  it('key material fires wherever it is, by its form: PEM private key, AWS access key, JWT', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInJvb20iOiJtYXRoIn0.0n8Yb6m8k7XQ2c1vF4qk3lZ9pR2sT5uW8xY1zA4bC7d';
    for (const value of ['-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----', 'AKIAQX4Z7Y2W9V3T6R5P', jwt]) {
      expect(secretRules(withConfig({ auth: { tokens: { issuer: value } } })).map((r) => r.split(' ')[0])).toEqual(['secret-in-config']);
    }
  });

  it('a schema secret field with a published example value is critical; with a random value it is quiet', () => {
    expect(audit(defectFixture('default-secret')).findings.filter((f) => f.rule === 'default-secret').map((f) => f.severity)).toEqual(['critical']);
    expect(secretRules(completeFixture('clean'))).toEqual([]);
  });

  it('a generated-looking token in plain stack config is secret-not-encrypted, a plain setting is not', () => {
    const stack = { 'lectern:http': { value: '{"port":3000}', secret: false }, 'lectern:apiToken': { value: 'Zr8Kq2Lx9Vb4Nm7Pw3Ts6Yh1Jd5Fg0Cs', secret: false } };
    expect(secretRules({ config: parseAuditConfig({ 'lectern:http': stack['lectern:http'] }, 'p.json') })).toEqual([]);
    const raw = parseAuditConfig({ 'lectern:http': stack['lectern:http'] }, 'p.json');
    raw.raw = stack;
    expect(secretRules({ config: raw }).map((r) => r.split(' ')[0])).toEqual(['secret-not-encrypted']);
  });
});

describe('jurisdiction', () => {
  const config = (jurisdiction?: 'location' | 'operator'): Record<string, unknown> => {
    const c = JSON.parse(readFileSync(join(FIXTURES, 'clean', 'lectern.json'), 'utf8')) as { deployment: Record<string, unknown> };
    if (jurisdiction) c.deployment.jurisdiction = jurisdiction;
    return c;
  };

  it("models each flow's operator and law: AWS -> US, Let's Encrypt -> US, the university's own update mirror -> SE", () => {
    const flows = clean.model.flows;
    expect(flows.find((f) => f.kind === 'media')!.operator).toMatchObject({ name: 'Amazon Web Services, Inc.', jurisdiction: 'US' });
    expect(flows.find((f) => f.kind === 'tls-issuance')!.operator).toMatchObject({ jurisdiction: 'US' });
    expect(flows.find((f) => f.kind === 'software-updates')!.operator).toMatchObject({ name: 'the university (its own hosts)', jurisdiction: 'SE' });
    expect(clean.model.jurisdiction).toBe('location');
  });

  it("'location' (default): AWS is reported as info, with the plain statement; 'operator': every AWS flow is high", () => {
    expect(clean.findings.filter((f) => f.rule === 'operator-jurisdiction').every((f) => f.severity === 'info')).toBe(true);
    expect(clean.model.jurisdictionNote).toContain('US law (the CLOUD Act) can require it to hand over data it holds in any region, SE included');
    const strict = audit({ ...completeFixture('clean'), config: parseAuditConfig(config('operator'), 'strict.json') });
    const aws = strict.findings.find((f) => f.rule === 'operator-jurisdiction' && f.title.startsWith('Amazon Web Services, Inc.'))!;
    expect(aws.severity).toBe('high');
    expect(strict.model.jurisdictionNote).toContain('an AWS deployment cannot pass this test');
    for (const text of [renderText(strict), renderJson(strict), renderHtml(strict)]) expect(text).toContain('Amazon Web Services, Inc.');
    expect(renderText(strict)).toContain('operator Amazon Web Services, Inc. (US law)');
  });
});

describe('accepted exceptions are visible in the verdict', () => {
  // The Copenhagen Local Zone fixture, without the clean Swedish stack's customer KMS key (a key in
  // Sweden is data abroad, refused by the pack as well; the program makes none for a Local Zone).
  const dkInputs = defectFixture('local-zone');
  dkInputs.stack!.export.resources = dkInputs.stack!.export.resources.filter((r) => r.type !== 'aws:kms/key:Key');
  const dk = audit(dkInputs);

  it('a Danish Local Zone deployment passes with its accepted exceptions listed, in text, JSON and HTML', () => {
    const verdict = verdictOf(dk, parseFailOn('high'));
    expect(verdict.pass, JSON.stringify(verdict.failing.map((f) => [f.rule, f.title]))).toBe(true);
    expect(verdict.accepted.length).toBeGreaterThan(1);
    expect(verdict.summary).toBe(`PASS at "high" with ${verdict.accepted.length} accepted exceptions`);
    expect(verdict.accepted.every((f) => f.accepted?.key === 'deployment.acceptParentRegionControlPlane')).toBe(true);
    const text = renderText(dk, { verdict });
    expect(text).toContain(`Verdict: PASS at "high" with ${verdict.accepted.length} accepted exceptions`);
    expect(text).toMatch(/accepted: .*eu-north-1.* — at .* — accepted by deployment\.acceptParentRegionControlPlane/);
    const json = JSON.parse(renderJson(dk, verdict)) as { verdict: { acceptedExceptions: Array<{ acceptedBy: string; where: string; what: string }> } };
    expect(json.verdict.acceptedExceptions).toHaveLength(verdict.accepted.length);
    expect(json.verdict.acceptedExceptions[0]).toMatchObject({ acceptedBy: 'deployment.acceptParentRegionControlPlane' });
    const html = renderHtml(dk, verdict);
    expect(html).toContain(`PASSES WITH ${verdict.accepted.length} ACCEPTED EXCEPTIONS`);
    expect(html).toContain('class="verdict pass with-exceptions"');
    // The clean Swedish deployment has none: a plain pass.
    expect(verdictOf(clean, parseFailOn('high')).summary).toBe('PASS at "high"');
  });

  it('--fail-on high,accepted counts them; a bad --fail-on is a usage error', () => {
    expect(verdictOf(dk, parseFailOn('high,accepted')).pass).toBe(false);
    expect(verdictOf(clean, parseFailOn('high,accepted')).pass).toBe(true);
    expect(() => parseFailOn('severe,accepted')).toThrow(/--fail-on/);
  });

  it('the CLI exits 0 for the Danish example stack config and 1 with --fail-on high,accepted', async () => {
    const run = async (...args: string[]): Promise<number> => main(['audit', '--config', 'Pulumi.example-dk.yaml', ...args], () => {}, () => {});
    expect(await run()).toBe(0);
    expect(await run('--fail-on', 'high,accepted')).toBe(1);
    expect(await run('--fail-on', 'nonsense')).toBe(2);
  });
});
