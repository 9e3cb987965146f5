// The generated residency sweep: from a clean stack (the program's own resources under Pulumi mocks,
// or the audit's clean fixture), make leaky variants one resource at a time — moved to a foreign
// region, moved with its tags and telling name stripped, given a foreign replica or copy by the real
// AWS mechanism for its type — plus every copy mechanism and foreign service once. Each variant goes
// through `lectern audit` (as a real `pulumi stack export` shape) and through the policy pack; both
// must refuse it, and name the resource that changed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { audit, verdictOf } from '../../../audit/audit.js';
import { exitCodeOf } from '../../../audit/cli.js';
import { parseStackExport } from '../../../audit/sources/stackExport.js';
import type { AuditConfig } from '../../../audit/sources/configFile.js';
import { classifyResource } from '../../../config/residency/index.js';
import { residencyResourcePolicies, residencyStackPolicies } from '../../../infra/residency/policies.js';
import { stackViolations, violations, type PackConfig, type Recorded } from '../../infra/support/harness.js';

// Pulumi's wire marker for a secret (sdk/nodejs/runtime/rpc.ts).
const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** A clean stack to sweep. */
export interface SweepBase {
  name: string;
  graph: Recorded[];
  /** The stack's outputs (the root Stack resource of the export). */
  outputs: Record<string, unknown>;
  country: string;
  packConfig: PackConfig;
  config: AuditConfig;
  /** Region of the pinned provider. */
  home: string;
  /** A region in another country (not an accepted parent region). */
  foreign: string;
  /** Parent region of the country's Local Zone, when that is where the control plane is accepted. */
  parent?: string;
}

/** One leaky variant. */
export interface Variant {
  id: string;
  kind: 'moved' | 'moved-untagged' | 'moved-to-parent' | 'copied' | 'mechanism';
  /** Logical names a refusal must mention (the changed or added resources). */
  names: string[];
  graph: Recorded[];
}

/** What the sweep measured. */
export interface SweepResult {
  stack: string;
  resources: number;
  variants: number;
  byKind: Record<string, number>;
  notApplicable: Array<{ resource: string; kind: string; why: string }>;
  caughtByAudit: number;
  caughtByPack: number;
  missedByAudit: string[];
  missedByPack: string[];
  auditRules: Record<string, number>;
  packRules: Record<string, number>;
}

const ZONED = new Set(['aws:ec2/instance:Instance', 'aws:ebs/volume:Volume', 'aws:ec2/subnet:Subnet']);

const isComponent = (type: string): boolean => type === 'pulumi:pulumi:Stack' || type.startsWith('lectern:');

/** The graph as `pulumi stack export` writes it: version 3, providers as resources, secrets as ciphertext. */
export function exportOf(base: Pick<SweepBase, 'name' | 'outputs' | 'home'>, graph: readonly Recorded[]): unknown {
  const project = 'lectern';
  const stackUrn = `urn:pulumi:${base.name}::${project}::pulumi:pulumi:Stack::${project}-${base.name}`;
  return {
    version: 3,
    deployment: {
      manifest: { time: '2026-12-01T10:00:00Z', magic: 'sweep', version: 'v3.248.0' },
      secrets_providers: { type: 'cloud', state: { url: `awskms://alias/lectern-state?region=${base.home}` } },
      resources: [
        { urn: stackUrn, custom: false, type: 'pulumi:pulumi:Stack', outputs: encrypt(base.outputs) },
        ...graph.map((r) => ({
          urn: r.urn,
          custom: !isComponent(r.type),
          type: r.type,
          ...(isComponent(r.type) ? {} : { id: r.id }),
          inputs: encrypt(r.inputs),
          outputs: encrypt(r.inputs),
          parent: stackUrn,
          ...(r.provider ? { provider: r.provider } : {}),
        })),
      ],
    },
  };
}

function encrypt(value: unknown): any {
  if (Array.isArray(value)) return value.map(encrypt);
  if (typeof value !== 'object' || value === null) return value;
  if (SECRET_SIG_KEY in value) return { [SECRET_SIG_KEY]: SECRET_SIG, ciphertext: 'AAABAJ4xN2ZhM2E5YzQxZDJlOGI2MDU1ZTFj' };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encrypt(v)]));
}

/** Every leaky variant of the base, and the resources no variant of a kind applies to (with why). */
export function variantsOf(base: SweepBase): { variants: Variant[]; notApplicable: SweepResult['notApplicable'] } {
  const variants: Variant[] = [];
  const notApplicable: SweepResult['notApplicable'] = [];
  const { foreign, home } = base;
  const pinned = base.graph.find((r) => r.type === 'pulumi:providers:aws')!;
  const providerRef = `${pinned.urn}::${pinned.id}`;
  base.graph.forEach((r, i) => {
    const c = classifyResource({ type: r.type, name: r.name, props: r.inputs, custom: !isComponent(r.type) });
    if (c.role === 'component') {
      for (const kind of ['moved', 'moved-untagged', 'copied']) notApplicable.push({ resource: r.name, kind, why: 'a component: no cloud resource of its own' });
      return;
    }
    if (c.role === 'global-metadata') {
      for (const kind of ['moved', 'moved-untagged', 'copied']) notApplicable.push({ resource: r.name, kind, why: 'IAM is global: it has no region to move or copy to' });
      return;
    }
    variants.push({ id: `${r.name}: moved to ${foreign}`, kind: 'moved', names: [r.name], graph: edit(base.graph, i, (x) => moveTo(x, foreign)) });
    if (r.type === 'pulumi:providers:aws') {
      notApplicable.push({ resource: r.name, kind: 'moved-untagged', why: 'a provider has no tags; renaming it renames every reference' });
      notApplicable.push({ resource: r.name, kind: 'copied', why: 'a provider holds no data to copy' });
      return;
    }
    const neutral = `scratch-${i}`;
    variants.push({
      id: `${r.name}: moved to ${foreign}, tags stripped, renamed ${neutral}`,
      kind: 'moved-untagged',
      names: [neutral],
      graph: edit(base.graph, i, (x) => {
        moveTo(x, foreign);
        delete x.inputs.tags;
        delete x.inputs.tagsAll;
        x.urn = x.urn.replace(/::[^:]+$/, `::${neutral}`);
        x.name = neutral;
      }),
    });
    if (base.parent && (c.role === 'stores' || c.role === 'runs')) {
      variants.push({ id: `${r.name}: moved to the accepted parent region ${base.parent}`, kind: 'moved-to-parent', names: [r.name], graph: edit(base.graph, i, (x) => moveTo(x, base.parent!)) });
    }
    const copy = copyOf(r, { home, foreign, providerRef });
    variants.push({ id: `${r.name}: ${copy.how}`, kind: 'copied', names: copy.added.map((a) => a.name), graph: [...structuredClone(base.graph), ...copy.added] });
  });
  for (const m of mechanisms({ home, foreign, providerRef, project: 'lectern', stack: base.name })) {
    variants.push({ id: m.how, kind: 'mechanism', names: m.added.map((a) => a.name), graph: [...structuredClone(base.graph), ...m.added] });
  }
  return { variants, notApplicable };
}

function edit(graph: readonly Recorded[], index: number, change: (r: Recorded) => void): Recorded[] {
  const copy: Recorded[] = structuredClone(graph) as Recorded[];
  change(copy[index]!);
  return copy;
}

// Move a resource: the provider's region, or the resource's own region (aws v7) and any zone it names.
function moveTo(r: Recorded, region: string): void {
  r.inputs.region = region;
  if (r.type.startsWith('pulumi:providers:')) return;
  // A zonal resource moves into a zone of the region (an instance otherwise stays in its subnet's zone).
  if (typeof r.inputs.availabilityZone === 'string' || ZONED.has(r.type)) r.inputs.availabilityZone = `${region}a`;
  if (typeof r.inputs.networkBorderGroup === 'string') r.inputs.networkBorderGroup = region;
  if (r.type === 'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup') r.inputs.groupName = region;
}

function resource(type: string, name: string, inputs: Record<string, any>, providerRef: string, urnBase: string): Recorded {
  return { type, name, inputs, provider: providerRef, id: `${name}-id`, urn: `${urnBase}::${type}::${name}` };
}

// The real AWS way to copy this resource's data to another region; a plain copy where AWS has none.
function copyOf(r: Recorded, at: { home: string; foreign: string; providerRef: string }): { how: string; added: Recorded[] } {
  const urnBase = r.urn.split('::').slice(0, 2).join('::');
  const mk = (type: string, name: string, inputs: Record<string, any>): Recorded => resource(type, name, inputs, at.providerRef, urnBase);
  const bucket = typeof r.inputs.bucket === 'string' ? r.inputs.bucket : r.id;
  switch (r.type) {
    case 'aws:s3/bucket:Bucket':
    case 'aws:s3/bucketV2:BucketV2':
      return {
        how: 'replicated by a BucketReplicationConfig to a bucket outside the stack',
        added: [mk('aws:s3/bucketReplicationConfig:BucketReplicationConfig', `${r.name}-replication`, { bucket, role: 'arn:aws:iam::123456789012:role/replication', rules: [{ id: 'dr', status: 'Enabled', destination: { bucket: 'arn:aws:s3:::lectern-dr-abroad', storageClass: 'STANDARD' } }] })],
      };
    case 'aws:kms/key:Key':
      return { how: `replicated by a ReplicaKey in ${at.foreign}`, added: [mk('aws:kms/replicaKey:ReplicaKey', `${r.name}-replica`, { primaryKeyArn: `arn:aws:kms:${at.home}:123456789012:key/mrk-0123456789abcdef`, region: at.foreign })] };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { how: `streamed by a LogSubscriptionFilter to a destination in ${at.foreign}`, added: [mk('aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter', `${r.name}-forward`, { logGroup: r.inputs.name ?? r.name, filterPattern: '', destinationArn: `arn:aws:logs:${at.foreign}:123456789012:destination:central` })] };
    case 'aws:ebs/volume:Volume':
      return {
        how: `snapshotted and the snapshot copied to ${at.foreign} (SnapshotCopy)`,
        added: [mk('aws:ebs/snapshot:Snapshot', `${r.name}-snap`, { volumeId: r.id }), mk('aws:ebs/snapshotCopy:SnapshotCopy', `${r.name}-snap-copy`, { sourceSnapshotId: `${r.name}-snap-id`, sourceRegion: at.home, region: at.foreign })],
      };
    case 'aws:ec2/instance:Instance':
      return {
        how: `imaged and the image copied to ${at.foreign} (AmiFromInstance + AmiCopy)`,
        added: [mk('aws:ec2/amiFromInstance:AmiFromInstance', `${r.name}-image`, { sourceInstanceId: r.id, name: 'image' }), mk('aws:ec2/amiCopy:AmiCopy', `${r.name}-image-copy`, { sourceAmiId: `${r.name}-image-id`, sourceAmiRegion: at.home, region: at.foreign, name: 'copy' })],
      };
    case 'aws:elasticache/replicationGroup:ReplicationGroup':
      return {
        how: `made the primary of an ElastiCache global datastore with a secondary group in ${at.foreign}`,
        added: [
          mk('aws:elasticache/globalReplicationGroup:GlobalReplicationGroup', `${r.name}-global`, { globalReplicationGroupIdSuffix: 'lectern', primaryReplicationGroupId: r.id }),
          mk('aws:elasticache/replicationGroup:ReplicationGroup', `${r.name}-secondary`, { description: 'secondary', globalReplicationGroupId: `ldgnf-${r.name}-global`, numCacheClusters: 1, region: at.foreign }),
        ],
      };
    default: {
      const clone = mk(r.type, `${r.name}-copy`, { ...structuredClone(r.inputs) });
      moveTo(clone, at.foreign);
      return { how: `copied as the same resource in ${at.foreign}`, added: [clone] };
    }
  }
}

// Every copy mechanism and foreign service, once per stack, each added in-country where it has a home.
function mechanisms(at: { home: string; foreign: string; providerRef: string; project: string; stack: string }): Array<{ how: string; added: Recorded[] }> {
  const urnBase = `urn:pulumi:${at.stack}::${at.project}`;
  const mk = (type: string, name: string, inputs: Record<string, any>, providerRef = at.providerRef): Recorded => resource(type, name, inputs, providerRef, urnBase);
  const { home, foreign } = at;
  const gcpProvider = resource('pulumi:providers:gcp', 'gcp', { project: 'uni', region: 'europe-north1' }, '', urnBase);
  const defaultProvider = resource('pulumi:providers:aws', 'default_7_48_0', { region: home }, '', urnBase);
  return [
    { how: 'DynamoDB table with a replica abroad (Table.replicas)', added: [mk('aws:dynamodb/table:Table', 'sessions', { hashKey: 'id', attributes: [{ name: 'id', type: 'S' }], replicas: [{ regionName: foreign }] })] },
    { how: 'DynamoDB global table (GlobalTable)', added: [mk('aws:dynamodb/globalTable:GlobalTable', 'sessions-global', { name: 'sessions', replicas: [{ regionName: home }, { regionName: foreign }] })] },
    { how: 'DynamoDB TableReplica abroad', added: [mk('aws:dynamodb/tableReplica:TableReplica', 'sessions-replica', { globalTableArn: `arn:aws:dynamodb:${home}:123456789012:table/sessions`, region: foreign })] },
    { how: 'RDS cross-region read replica', added: [mk('aws:rds/instance:Instance', 'db-replica', { instanceClass: 'db.t3.micro', replicateSourceDb: `arn:aws:rds:${home}:123456789012:db:main`, region: foreign })] },
    { how: 'RDS read replica of a database in the country, target region unknown to the stack', added: [mk('aws:rds/instance:Instance', 'db-replica-2', { instanceClass: 'db.t3.micro', replicateSourceDb: 'main' })] },
    { how: 'RDS cross-region automated backups', added: [mk('aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication', 'db-backups', { sourceDbInstanceArn: `arn:aws:rds:${home}:123456789012:db:main`, region: foreign })] },
    { how: 'Aurora global cluster member abroad', added: [mk('aws:rds/cluster:Cluster', 'aurora-secondary', { engine: 'aurora-postgresql', globalClusterIdentifier: 'lectern-global', region: foreign })] },
    { how: 'ECR registry replication', added: [mk('aws:ecr/replicationConfiguration:ReplicationConfiguration', 'ecr-replication', { replicationConfiguration: { rules: [{ destinations: [{ region: foreign, registryId: '123456789012' }] }] } })] },
    { how: 'Backup plan with a copy action to a vault abroad', added: [mk('aws:backup/plan:Plan', 'backups', { name: 'daily', rules: [{ ruleName: 'daily', targetVaultName: 'local', schedule: 'cron(0 3 * * ? *)', copyActions: [{ destinationVaultArn: `arn:aws:backup:${foreign}:123456789012:backup-vault:dr` }] }] })] },
    { how: 'KMS multi-Region key', added: [mk('aws:kms/key:Key', 'mrk', { description: 'x', multiRegion: true })] },
    { how: 'KMS ReplicaExternalKey abroad', added: [mk('aws:kms/replicaExternalKey:ReplicaExternalKey', 'ext-replica', { primaryKeyArn: `arn:aws:kms:${home}:123456789012:key/mrk-1`, region: foreign })] },
    { how: 'Secrets Manager secret with a replica abroad', added: [mk('aws:secretsmanager/secret:Secret', 'api-secret', { name: 'api', replicas: [{ region: foreign }] })] },
    { how: 'EBS snapshot copy abroad', added: [mk('aws:ebs/snapshotCopy:SnapshotCopy', 'snap-copy', { sourceSnapshotId: 'snap-1', sourceRegion: home, region: foreign })] },
    { how: 'AMI copy abroad', added: [mk('aws:ec2/amiCopy:AmiCopy', 'ami-copy', { sourceAmiId: 'ami-1', sourceAmiRegion: home, region: foreign, name: 'copy' })] },
    { how: 'DLM policy with cross-region copy rules', added: [mk('aws:dlm/lifecyclePolicy:LifecyclePolicy', 'snapshots', { description: 'daily', executionRoleArn: 'arn:aws:iam::123456789012:role/dlm', state: 'ENABLED', policyDetails: { resourceTypes: ['VOLUME'], schedules: [{ name: 'daily', createRule: { interval: 24 }, crossRegionCopyRules: [{ target: foreign, encrypted: true }] }], targetTags: { backup: 'yes' } } })] },
    { how: 'DLM policy with event-based cross-region copies', added: [mk('aws:dlm/lifecyclePolicy:LifecyclePolicy', 'snapshot-events', { description: 'copy', executionRoleArn: 'arn:aws:iam::123456789012:role/dlm', policyDetails: { policyType: 'EVENT_BASED_POLICY', actions: [{ name: 'copy', crossRegionCopies: [{ target: foreign, encryptionConfiguration: { encrypted: true } }] }] } })] },
    { how: 'S3 bucket with an inline replication configuration', added: [mk('aws:s3/bucket:Bucket', 'inline-replicated', { bucket: 'inline-replicated', replicationConfiguration: { role: 'arn:aws:iam::123456789012:role/r', rules: [{ status: 'Enabled', destination: { bucket: 'arn:aws:s3:::somewhere' } }] } })] },
    { how: 'EFS replication to another region', added: [mk('aws:efs/replicationConfiguration:ReplicationConfiguration', 'efs-replication', { sourceFileSystemId: 'fs-1', destination: { region: foreign } })] },
    { how: 'ElastiCache global datastore', added: [mk('aws:elasticache/globalReplicationGroup:GlobalReplicationGroup', 'cache-global', { globalReplicationGroupIdSuffix: 'x', primaryReplicationGroupId: 'primary' })] },
    { how: 'ElastiCache group joined to a global datastore (globalReplicationGroupId)', added: [mk('aws:elasticache/replicationGroup:ReplicationGroup', 'cache-member', { description: 'member', globalReplicationGroupId: 'ldgnf-lectern-global' })] },
    { how: 'ElastiCache group seeded from RDB snapshot files in S3 (snapshotArns)', added: [mk('aws:elasticache/replicationGroup:ReplicationGroup', 'cache-seeded', { description: 'seeded', snapshotArns: ['arn:aws:s3:::exports-elsewhere/registry.rdb'] })] },
    { how: 'ElastiCache cluster abroad', added: [mk('aws:elasticache/cluster:Cluster', 'cache-abroad', { engine: 'redis', nodeType: 'cache.t4g.small', numCacheNodes: 1, region: foreign })] },
    { how: 'Redshift snapshot copy abroad', added: [mk('aws:redshift/snapshotCopy:SnapshotCopy', 'redshift-copy', { clusterIdentifier: 'c', destinationRegion: foreign })] },
    { how: 'CloudFront distribution', added: [mk('aws:cloudfront/distribution:Distribution', 'cdn', { enabled: true })] },
    { how: 'Route 53 hosted zone', added: [mk('aws:route53/zone:Zone', 'zone', { name: 'example.org' })] },
    { how: 'Global Accelerator', added: [mk('aws:globalaccelerator/accelerator:Accelerator', 'ga', { name: 'ga' })] },
    { how: 'S3 Multi-Region Access Point', added: [mk('aws:s3control/multiRegionAccessPoint:MultiRegionAccessPoint', 'mrap', { details: { name: 'x', regions: [{ bucket: 'b' }] } })] },
    { how: 'an AWS type not classified (OpenSearch)', added: [mk('aws:opensearch/domain:Domain', 'search', { domainName: 'search' })] },
    { how: 'a resource of another provider package (GCP storage)', added: [gcpProvider, mk('gcp:storage/bucket:Bucket', 'gcs', { location: 'EUROPE-NORTH1' }, `${gcpProvider.urn}::${gcpProvider.id}`)] },
    { how: 'a resource on the default AWS provider (real export shape)', added: [defaultProvider, mk('aws:s3/bucketV2:BucketV2', 'unpinned', { bucket: 'unpinned' }, `${defaultProvider.urn}::${defaultProvider.id}`)] },
    { how: 'a resource with no provider at all (mock shape of a default provider)', added: [mk('aws:sqs/queue:Queue', 'queue', { name: 'q' }, '')] },
  ];
}

/** Audit one graph as `lectern audit --config ... --stack-export ... --state-url ...` would; returns exit code and failing findings. */
export function auditGraph(base: SweepBase, graph: readonly Recorded[]): { code: number; failing: Array<{ rule: string; text: string }> } {
  const inputs = { config: base.config, stack: { source: `${base.name}.export.json`, export: parseStackExport(exportOf(base, graph)) }, stateUrl: `s3://lectern-state?region=${base.home}` };
  const verdict = verdictOf(audit(inputs), { severity: 'high', countAccepted: false });
  return { code: exitCodeOf(verdict), failing: verdict.failing.map((f) => ({ rule: f.rule, text: `${f.title} ${f.evidence} ${f.where}` })) };
}

/** Every violation the pack reports on a graph. */
export async function packGraph(base: SweepBase, graph: readonly Recorded[]): Promise<string[]> {
  const found: string[] = [];
  for (const p of residencyResourcePolicies) found.push(...(await violations(p, graph, base.packConfig)));
  for (const p of residencyStackPolicies) found.push(...(await stackViolations(p, graph, base.packConfig)));
  return found;
}

/** Run the sweep and record its counts under tests/artifacts/sweep-<stack>.json. */
export async function runSweep(base: SweepBase): Promise<SweepResult> {
  const { variants, notApplicable } = variantsOf(base);
  const result: SweepResult = { stack: base.name, resources: base.graph.length, variants: variants.length, byKind: {}, notApplicable, caughtByAudit: 0, caughtByPack: 0, missedByAudit: [], missedByPack: [], auditRules: {}, packRules: {} };
  for (const v of variants) {
    result.byKind[v.kind] = (result.byKind[v.kind] ?? 0) + 1;
    const audited = auditGraph(base, v.graph);
    // A region override is refused even in-country, so it alone does not count as catching a leak.
    const named = audited.failing.filter((f) => f.rule !== 'region-override' && v.names.some((n) => f.text.includes(n)));
    if (audited.code !== 0 && named.length > 0) result.caughtByAudit += 1;
    else result.missedByAudit.push(`${v.id} (exit ${audited.code}; ${audited.failing.map((f) => f.rule).join(', ') || 'no failing finding'})`);
    for (const rule of new Set(named.map((f) => f.rule))) result.auditRules[rule] = (result.auditRules[rule] ?? 0) + 1;
    const refused = (await packGraph(base, v.graph)).filter((m) => !m.startsWith('[lectern-no-region-override]') && v.names.some((n) => m.includes(`"${n}"`)));
    if (refused.length > 0) result.caughtByPack += 1;
    else result.missedByPack.push(v.id);
    for (const rule of new Set(refused.map((m) => /^\[([^\]]+)\]/.exec(m)?.[1] ?? '?'))) result.packRules[rule] = (result.packRules[rule] ?? 0) + 1;
  }
  const dir = join(import.meta.dirname, '..', '..', 'artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `sweep-${base.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`sweep ${base.name}: ${result.resources} resources, ${result.variants} variants (${Object.entries(result.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}), caught by audit ${result.caughtByAudit}, caught by pack ${result.caughtByPack}, not applicable ${notApplicable.length}`);
  return result;
}
