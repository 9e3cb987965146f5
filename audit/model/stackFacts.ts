// Facts about a stack export in the audit's terms: hosts and their zones, buckets with their
// encryption and lifecycle, log groups, volumes, public addresses, inbound firewall rules.
import type { StackExport, StackResource } from '../sources/stackExport.js';
import type { FlowKind } from './types.js';

/** What a data-holding resource is for: a `lectern:purpose` tag, else its logical name. */
export function purposeOf(resource: StackResource): FlowKind | undefined {
  const tags = (resource.inputs.tags ?? resource.outputs.tags) as Record<string, unknown> | undefined;
  const tagged = tags?.['lectern:purpose'];
  const known: FlowKind[] = ['recordings', 'logs', 'metrics', 'chat', 'audit-log', 'pulumi-state'];
  if (typeof tagged === 'string' && (known as string[]).includes(tagged)) return tagged as FlowKind;
  const name = resource.name.toLowerCase();
  if (/record/.test(name)) return 'recordings';
  if (/audit/.test(name)) return 'audit-log';
  if (/state/.test(name)) return 'pulumi-state';
  if (/metric/.test(name)) return 'metrics';
  if (/chat/.test(name)) return 'chat';
  if (/log/.test(name)) return 'logs';
  return undefined;
}

const INSTANCE = 'aws:ec2/instance:Instance';
const SUBNET = 'aws:ec2/subnet:Subnet';
const BUCKETS = new Set(['aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2']);
const SSE_TYPES = new Set([
  'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2',
]);
const LIFECYCLE_TYPES = new Set([
  'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  'aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2',
]);

/** A compute host of the deployment. */
export interface HostFact {
  resource: StackResource;
  role: 'media' | 'turn' | 'other';
  /** Where the role came from (a `lectern:role` tag, the logical name, the only instance). */
  roleBasis: string;
  /** Availability Zone or Local Zone name, when known. */
  zone: string | undefined;
  zoneSource: string;
  rootEncrypted: boolean | undefined;
}

/** An S3 bucket and what governs its contents. */
export interface BucketFact {
  resource: StackResource;
  purpose: FlowKind | undefined;
  /** `aws:kms`, `AES256`, or null when no encryption configuration is in the stack (S3 then applies SSE-S3). */
  encryption: string | null;
  /** Shortest expiration in an enabled lifecycle rule; null when objects never expire. */
  retentionDays: number | null;
}

/** One inbound rule of a security group. */
export interface IngressFact {
  resource: StackResource;
  protocol: string;
  fromPort: number;
  toPort: number;
  sources: string[];
  description: string;
}

/** Facts about the stack that the model and the checks share. */
export interface StackFacts {
  hosts: HostFact[];
  buckets: BucketFact[];
  logGroups: Array<{ resource: StackResource; retentionDays: number | null; kmsKey: boolean }>;
  volumes: Array<{ resource: StackResource; zone: string | undefined; encrypted: boolean; purpose: FlowKind | undefined }>;
  publicIps: string[];
  ingress: IngressFact[];
  /** Hostname-like stack outputs (domain, url, ip). */
  outputHosts: string[];
}

/** Derive StackFacts from a parsed export. */
export function stackFacts(stack: StackExport): StackFacts {
  const rs = stack.resources;
  const byId = new Map<string, StackResource>();
  for (const r of rs) {
    if (r.id) byId.set(r.id, r);
    const id = r.outputs.id ?? r.outputs.bucket;
    if (typeof id === 'string') byId.set(id, r);
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

  const instances = rs.filter((r) => r.type === INSTANCE);
  const hosts = instances
    .map((r): HostFact => {
      const own = str(r.outputs.availabilityZone) ?? str(r.inputs.availabilityZone);
      const subnet = byId.get(str(r.inputs.subnetId) ?? str(r.outputs.subnetId) ?? '');
      const viaSubnet = subnet && subnet.type === SUBNET ? (str(subnet.outputs.availabilityZone) ?? str(subnet.inputs.availabilityZone)) : undefined;
      const root = (r.inputs.rootBlockDevice ?? r.outputs.rootBlockDevice) as { encrypted?: unknown } | undefined;
      return {
        resource: r,
        ...roleOf(r, instances.length),
        zone: own ?? viaSubnet,
        zoneSource: own ? `availabilityZone of instance ${r.name}` : viaSubnet ? `availabilityZone of subnet ${subnet!.name}` : `region of instance ${r.name} (${r.regionSource})`,
        rootEncrypted: typeof root?.encrypted === 'boolean' ? root.encrypted : undefined,
      };
    });

  const bucketKey = (r: StackResource): string[] => [r.id, str(r.outputs.bucket), str(r.inputs.bucket), str(r.outputs.id)].filter((x): x is string => !!x);
  const refersTo = (r: StackResource, bucket: StackResource): boolean => {
    const target = str(r.inputs.bucket) ?? str(r.outputs.bucket);
    return target !== undefined && bucketKey(bucket).includes(target);
  };
  const buckets = rs
    .filter((r) => BUCKETS.has(r.type))
    .map((b): BucketFact => {
      const sse = rs.find((r) => SSE_TYPES.has(r.type) && refersTo(r, b));
      const inlineSse = b.inputs.serverSideEncryptionConfiguration;
      const encryption = sseAlgorithm(sse?.inputs ?? (inlineSse ? { rules: [(inlineSse as { rule?: unknown }).rule] } : undefined));
      const lifecycle = rs.find((r) => LIFECYCLE_TYPES.has(r.type) && refersTo(r, b));
      return { resource: b, purpose: purposeOf(b), encryption, retentionDays: expirationDays(lifecycle?.inputs.rules ?? b.inputs.lifecycleRules) };
    });

  const logGroups = rs
    .filter((r) => r.type === 'aws:cloudwatch/logGroup:LogGroup')
    .map((r) => {
      const days = r.inputs.retentionInDays ?? r.outputs.retentionInDays;
      return { resource: r, retentionDays: typeof days === 'number' && days > 0 ? days : null, kmsKey: !!str(r.inputs.kmsKeyId) };
    });

  const volumes = rs
    .filter((r) => r.type === 'aws:ebs/volume:Volume')
    .map((r) => ({
      resource: r,
      zone: str(r.outputs.availabilityZone) ?? str(r.inputs.availabilityZone),
      encrypted: r.inputs.encrypted === true || r.outputs.encrypted === true,
      purpose: purposeOf(r),
    }));

  const publicIps = rs
    .filter((r) => r.type === 'aws:ec2/eip:Eip' || r.type === INSTANCE)
    .map((r) => str(r.outputs.publicIp))
    .filter((ip): ip is string => !!ip);

  const ingress: IngressFact[] = [];
  for (const r of rs) {
    if (r.type === 'aws:ec2/securityGroup:SecurityGroup') {
      for (const rule of asArray(r.inputs.ingress)) ingress.push(ingressOf(r, rule, 'protocol', ['cidrBlocks', 'ipv6CidrBlocks']));
    } else if (r.type === 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule') {
      ingress.push(ingressOf(r, r.inputs, 'ipProtocol', ['cidrIpv4', 'cidrIpv6']));
    } else if (r.type === 'aws:ec2/securityGroupRule:SecurityGroupRule' && r.inputs.type === 'ingress') {
      ingress.push(ingressOf(r, r.inputs, 'protocol', ['cidrBlocks', 'ipv6CidrBlocks']));
    }
  }

  const outputHosts: string[] = [];
  for (const [key, value] of Object.entries(stack.outputs)) {
    if (typeof value !== 'string' || !/ip|domain|host|url/i.test(key)) continue;
    const host = /^[a-z]+:\/\//i.test(value) ? new URL(value).hostname : value;
    if (/^[a-z0-9.-]+$/i.test(host) || /^[0-9a-f:]+$/i.test(host)) outputHosts.push(host.toLowerCase());
  }
  return { hosts, buckets, logGroups, volumes, publicIps, ingress, outputHosts };
}

// A host's role: its `lectern:role` tag, else its logical name; a lone instance is the media host.
function roleOf(r: StackResource, count: number): { role: HostFact['role']; roleBasis: string } {
  const tags = (r.inputs.tags ?? r.outputs.tags) as Record<string, unknown> | undefined;
  const tagged = tags?.['lectern:role'];
  if (tagged === 'media' || tagged === 'turn') return { role: tagged, roleBasis: `tag lectern:role=${tagged}` };
  if (/turn/i.test(r.name)) return { role: 'turn', roleBasis: `logical name ${r.name}` };
  if (/media|sfu/i.test(r.name)) return { role: 'media', roleBasis: `logical name ${r.name}` };
  if (count === 1) return { role: 'media', roleBasis: 'the only instance of the stack' };
  return { role: 'other', roleBasis: `instance ${r.name} has no Lectern role` };
}

function asArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
}

function ingressOf(resource: StackResource, rule: Record<string, unknown>, protocolKey: string, cidrKeys: string[]): IngressFact {
  const sources: string[] = [];
  for (const key of cidrKeys) {
    const v = rule[key];
    if (typeof v === 'string') sources.push(v);
    else if (Array.isArray(v)) sources.push(...v.filter((x): x is string => typeof x === 'string'));
  }
  if (typeof rule.referencedSecurityGroupId === 'string' || (Array.isArray(rule.securityGroups) && rule.securityGroups.length > 0) || rule.self === true) sources.push('security-group');
  const protocol = String(rule[protocolKey] ?? '-1').toLowerCase();
  const all = protocol === '-1' || protocol === 'all';
  return {
    resource,
    protocol: all ? 'all' : protocol,
    fromPort: all ? 0 : Number(rule.fromPort ?? 0),
    toPort: all ? 65535 : Number(rule.toPort ?? 65535),
    sources,
    description: typeof rule.description === 'string' ? rule.description : '',
  };
}

function sseAlgorithm(inputs: Record<string, unknown> | undefined): string | null {
  if (!inputs) return null;
  for (const rule of asArray(inputs.rules)) {
    const def = rule.applyServerSideEncryptionByDefault as { sseAlgorithm?: unknown } | undefined;
    if (typeof def?.sseAlgorithm === 'string') return def.sseAlgorithm;
  }
  return null;
}

function expirationDays(rules: unknown): number | null {
  let best: number | null = null;
  for (const rule of asArray(rules)) {
    if (rule.status !== undefined && rule.status !== 'Enabled' && rule.enabled !== true) continue;
    if (rule.enabled === false) continue;
    const expiration = Array.isArray(rule.expiration) ? asArray(rule.expiration)[0] : (rule.expiration as Record<string, unknown> | undefined);
    const days = expiration?.days;
    if (typeof days === 'number' && days > 0) best = best === null ? days : Math.min(best, days);
  }
  return best;
}
