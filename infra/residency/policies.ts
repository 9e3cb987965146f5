// Layer two of the residency guarantee: a policy pack checking the whole resource graph at preview,
// independent of the program's own checks (infra/plan.ts). The country comes from the pack config
// (`--policy-pack-config`), set by whoever answers for residency, not from the stack being checked.
// Kept apart from the pack entry: constructing a PolicyPack starts a gRPC server.
import type {
  PolicyConfigSchema,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from '@pulumi/policy';
import { classifyResource, residencyViolations, type ResidencyRules, type ResourceInput, type StackIndex, type ViolationRule } from '../../config/residency/index.js';

/** The pack config every policy reads (`--policy-pack-config`). */
export interface ResidencyPolicyConfig {
  country: string;
  /** Set for a Local Zone deployment whose control plane in the parent region is knowingly accepted. */
  acceptParentRegionControlPlane?: boolean;
}

const configSchema: PolicyConfigSchema = {
  properties: { country: { type: 'string', pattern: '^[A-Z]{2}$' }, acceptParentRegionControlPlane: { type: 'boolean' } },
  required: ['country'],
};

function rulesOf(args: ResourceValidationArgs): ResidencyRules {
  const config = args.getConfig<ResidencyPolicyConfig>();
  return { country: config.country, acceptParentRegionControlPlane: config.acceptParentRegionControlPlane === true };
}

/** The engine's args in the shared classification's terms (the same function the audit calls). */
export function resourceInputOf(args: ResourceValidationArgs): ResourceInput {
  return {
    type: args.type,
    name: args.name,
    urn: args.urn,
    props: args.props,
    provider: args.provider && { type: args.provider.type, name: args.provider.name, urn: args.provider.urn, props: args.provider.props },
  };
}

// The engine hands a resource policy one resource: no index of the others (the stack policy below has them).
const NO_INDEX: StackIndex = { find: () => undefined, complete: false };

/**
 * A rule reporting the shared classification's violations of the given kinds. Accepted exceptions
 * (a config key accepts them knowingly) are not violations.
 */
function residencyRule(name: string, description: string, kinds: readonly ViolationRule[]): ResourceValidationPolicy {
  return rule(name, description, (args) => {
    const input = resourceInputOf(args);
    return residencyViolations(classifyResource(input, NO_INDEX), input, rulesOf(args))
      .filter((v) => kinds.includes(v.rule) && !v.accepted)
      .map((v) => v.message);
  });
}

/** A resource-level rule: the violation message names the rule, and the engine attaches the resource. */
function rule(name: string, description: string, check: (args: ResourceValidationArgs, country: string) => string | undefined | string[]): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: 'mandatory',
    configSchema,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      const found = check(args, args.getConfig<ResidencyPolicyConfig>().country);
      for (const message of typeof found === 'string' ? [found] : (found ?? [])) report(`[${name}] ${args.type} "${args.name}": ${message}`);
    },
  };
}

const explicitProvider = residencyRule(
  'lectern-explicit-provider',
  'Every cloud resource uses an explicit provider, never a default one (whose region comes from the shell).',
  ['default-provider'],
);

const providerInCountry = residencyRule(
  'lectern-provider-in-country',
  'Every AWS provider, and the provider of every AWS resource, is pinned to a region allowed for the country.',
  ['provider-outside-country', 'parent-region-control-plane'],
);

const noRegionOverride = residencyRule(
  'lectern-no-region-override',
  'No resource overrides its provider region (the per-resource `region` input of @pulumi/aws v7).',
  ['region-override'],
);

const zoneInCountry = residencyRule(
  'lectern-zone-in-country',
  'Zonal resources (hosts, volumes, subnets, addresses, zone opt-ins) sit in a zone inside the country.',
  ['zone-outside-country'],
);

const dataInCountry = residencyRule(
  'lectern-data-in-country',
  'Every resource of every provider package is classified and placed: data, compute and metadata in the country (metadata also in an accepted Local Zone parent region).',
  ['outside-country', 'not-classified', 'location-not-established'],
);

const noGlobalServices = residencyRule(
  'lectern-no-global-services',
  'No global or edge services (CloudFront, Global Accelerator, Route 53, WAF, Organizations, S3 acceleration/website, multi-Region access points).',
  ['global-service'],
);

const noReplication = residencyRule(
  'lectern-no-replication',
  'Nothing copies data out of the country: every place a resource names (replicas, replication rules, copy actions, cross-region rules, ARNs) is in it, and every copy has an established target.',
  ['copies-outside-country', 'copy-target-unknown'],
);

const singleRegionKeys = residencyRule(
  'lectern-single-region-keys',
  'KMS keys are single-region (a multi-Region key can be replicated out of the country).',
  ['multi-region-key'],
);

const PUBLIC_ACLS = new Set(['public-read', 'public-read-write', 'authenticated-read']);

const noPublicBuckets = rule(
  'lectern-no-public-buckets',
  'Buckets are private: no public ACLs or grants, no Allow-to-everyone policy, public access fully blocked.',
  (args) => {
    const p = args.props;
    switch (args.type) {
      case 'aws:s3/bucket:Bucket':
      case 'aws:s3/bucketV2:BucketV2':
        return PUBLIC_ACLS.has(p.acl) ? `has public ACL ${p.acl}` : undefined;
      case 'aws:s3/bucketAcl:BucketAcl':
      case 'aws:s3/bucketAclV2:BucketAclV2': {
        if (PUBLIC_ACLS.has(p.acl)) return `has public ACL ${p.acl}`;
        const grants: Array<{ grantee?: { uri?: string } }> = p.accessControlPolicy?.grants ?? [];
        return grants.some((g) => /AllUsers|AuthenticatedUsers/.test(g.grantee?.uri ?? '')) ? 'grants access to all users' : undefined;
      }
      case 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': {
        const off = ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].filter((k) => p[k] !== true);
        return off.length > 0 ? `does not block public access (${off.join(', ')} not true)` : undefined;
      }
      case 'aws:s3/bucketPolicy:BucketPolicy':
        return allowsEveryone(p.policy) ? 'allows access to every principal ("*")' : undefined;
      default:
        return undefined;
    }
  },
);

const encryptionRequired = rule(
  'lectern-encryption-required',
  'Everything stored is encrypted: host and data volumes, buckets (SSE), log groups (KMS), parameters (SecureString), the coordination store (at rest and in transit, with an AUTH token).',
  (args) => {
    const p = args.props;
    switch (args.type) {
      case 'aws:ec2/instance:Instance': {
        const problems: string[] = [];
        if (p.rootBlockDevice?.encrypted !== true) problems.push('root volume is not encrypted');
        for (const device of (p.ebsBlockDevices ?? []) as Array<{ encrypted?: boolean; deviceName?: string }>) {
          if (device.encrypted !== true) problems.push(`volume ${device.deviceName ?? '?'} is not encrypted`);
        }
        return problems;
      }
      case 'aws:ebs/volume:Volume':
        return p.encrypted === true ? undefined : 'volume is not encrypted';
      case 'aws:cloudwatch/logGroup:LogGroup':
        return p.kmsKeyId ? undefined : 'log group has no KMS key';
      case 'aws:ssm/parameter:Parameter':
        return p.type === 'SecureString' ? undefined : `parameter type ${String(p.type)} is not SecureString`;
      case 'aws:elasticache/replicationGroup:ReplicationGroup': {
        // The registry and room directory name nodes and classes: encrypted wherever they are, and
        // only a client holding the token may read them.
        const problems: string[] = [];
        if (p.atRestEncryptionEnabled !== true) problems.push('not encrypted at rest');
        if (p.transitEncryptionEnabled !== true) problems.push('not encrypted in transit');
        else if (p.transitEncryptionMode !== undefined && p.transitEncryptionMode !== 'required') problems.push(`transit encryption mode ${String(p.transitEncryptionMode)} lets clients in without TLS`);
        if (!p.authToken && !(Array.isArray(p.userGroupIds) && p.userGroupIds.length > 0)) problems.push('no AUTH token or user group: any client that reaches it may read it');
        return problems;
      }
      case 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration':
      case 'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2': {
        const rules: Array<{ applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }> = p.rules ?? [];
        return rules.some((r) => ['aws:kms', 'aws:kms:dsse', 'AES256'].includes(r.applyServerSideEncryptionByDefault?.sseAlgorithm ?? ''))
          ? undefined
          : 'no default server-side encryption';
      }
      default:
        return undefined;
    }
  },
);

const BUCKET_TYPES = new Set(['aws:s3/bucket:Bucket', 'aws:s3/bucketV2:BucketV2']);

/**
 * Stack-level: the same classification with the whole graph at hand, which a resource policy lacks:
 * an instance takes its subnet's zone, and a region-less ARN (an S3 bucket) is followed to the resource
 * it names. Reports only what the resource-level rules cannot see, so nothing is reported twice.
 */
const residencyGraph: StackValidationPolicy = {
  name: 'lectern-residency-graph',
  description: 'Resources placed through another resource (an instance through its subnet, a copy through the bucket it names) are in the country.',
  enforcementLevel: 'mandatory',
  configSchema,
  validateStack: (args, report) => {
    const config = args.getConfig<ResidencyPolicyConfig>();
    const rules: ResidencyRules = { country: config.country, acceptParentRegionControlPlane: config.acceptParentRegionControlPlane === true };
    const inputs = args.resources.map((r): ResourceInput => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.props,
      provider: r.provider && { type: r.provider.type, name: r.provider.name, urn: r.provider.urn, props: r.provider.props },
    }));
    const index = indexOf(inputs);
    for (const [i, input] of inputs.entries()) {
      const alone = new Set(residencyViolations(classifyResource(input, NO_INDEX), input, rules).map((v) => v.message));
      for (const v of residencyViolations(classifyResource(input, index), input, rules)) {
        if (!v.accepted && !alone.has(v.message)) report(`[lectern-residency-graph] ${input.type} "${input.name}": ${v.message}`, args.resources[i]!.urn);
      }
    }
  },
};

/** Look resources up by id, ARN or bucket name (what other resources' inputs hold). */
export function indexOf(resources: readonly ResourceInput[], ids: ReadonlyArray<string | undefined> = []): StackIndex {
  const byRef = new Map<string, ResourceInput>();
  resources.forEach((r, i) => {
    for (const ref of [ids[i], r.props.id, r.props.arn, r.props.bucket, r.props.keyId]) if (typeof ref === 'string' && ref) byRef.set(ref, r);
  });
  // At preview ids are mostly unknown: an unresolved reference is judged where it points, not here.
  return { find: (ref) => byRef.get(ref), complete: false };
}

/** Stack-level: every bucket has a full public-access block and default encryption attached. */
const bucketGuards: StackValidationPolicy = {
  name: 'lectern-bucket-guards',
  description: 'Every bucket has a public access block and a default-encryption configuration.',
  enforcementLevel: 'mandatory',
  configSchema,
  validateStack: (args, report) => {
    const buckets = args.resources.filter((r) => BUCKET_TYPES.has(r.type));
    for (const bucket of buckets) {
      const guards = args.resources.filter((r) => r.dependencies.includes(bucket) || r.propertyDependencies.bucket?.includes(bucket));
      for (const [types, what] of [
        [['aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock'], 'public access block'],
        [['aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2'], 'default encryption'],
      ] as const) {
        if (!guards.some((g) => (types as readonly string[]).includes(g.type))) report(`[lectern-bucket-guards] ${bucket.type} "${bucket.name}": has no ${what}`, bucket.urn);
      }
    }
  },
};

function allowsEveryone(policy: unknown): boolean {
  let doc: unknown = policy;
  if (typeof policy === 'string') {
    try {
      doc = JSON.parse(policy);
    } catch {
      return false;
    }
  }
  const statements = (doc as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  return list.some((s: { Effect?: string; Principal?: unknown }) => {
    if (s.Effect !== 'Allow') return false;
    const principal = s.Principal;
    if (principal === '*') return true;
    const aws = (principal as { AWS?: unknown } | undefined)?.AWS;
    return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
  });
}

/** Resource-level residency rules, in the order findings are reported. */
export const residencyResourcePolicies: readonly ResourceValidationPolicy[] = [
  explicitProvider,
  providerInCountry,
  noRegionOverride,
  zoneInCountry,
  dataInCountry,
  noGlobalServices,
  noReplication,
  singleRegionKeys,
  noPublicBuckets,
  encryptionRequired,
];

/** Stack-level residency rules. */
export const residencyStackPolicies: readonly StackValidationPolicy[] = [bucketGuards, residencyGraph];

/** Every rule of the pack. */
export const residencyPolicies: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = [...residencyResourcePolicies, ...residencyStackPolicies];
