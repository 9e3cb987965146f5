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
import {
  AWS_LOCAL_ZONES,
  AWS_REGIONS,
  GLOBAL_METADATA_TYPES,
  GLOBAL_SERVICE_PREFIXES,
  REGIONAL_CONTROL_TYPES,
  REGIONAL_DATA_TYPES,
  REPLICATION_TYPES,
  ZONAL_TYPES,
  countryOfLocation,
  findRegion,
} from '../../config/residency/index.js';

/** The pack config every policy reads. */
export interface ResidencyPolicyConfig {
  country: string;
}

const configSchema: PolicyConfigSchema = {
  properties: { country: { type: 'string', pattern: '^[A-Z]{2}$' } },
  required: ['country'],
};

const AWS_PROVIDER = 'pulumi:providers:aws';
const isAwsResource = (type: string): boolean => type.startsWith('aws:');

/** Regions holding data for `country`: only regions inside it. */
function dataRegions(country: string): Set<string> {
  return new Set(AWS_REGIONS.filter((r) => r.country === country && r.partition === 'aws').map((r) => r.code));
}

/** Regions that may hold control-plane metadata: in-country regions and parents of in-country Local Zones. */
function controlRegions(country: string): Set<string> {
  const regions = dataRegions(country);
  for (const zone of AWS_LOCAL_ZONES) if (zone.country === country) regions.add(zone.parentRegion);
  return regions;
}

/** The region a resource's API calls and data go to. */
function regionOf(args: ResourceValidationArgs): string | undefined {
  const own = args.props.region;
  if (typeof own === 'string' && own !== '') return own;
  const region = args.provider?.props.region;
  return typeof region === 'string' ? region : undefined;
}

function countryOf(args: ResourceValidationArgs): string {
  return args.getConfig<ResidencyPolicyConfig>().country;
}

function describeRegion(code: string | undefined): string {
  if (!code) return 'no region';
  const region = findRegion(code);
  return region ? `${code} (${region.country})` : `${code} (not catalogued)`;
}

/** A resource-level rule: the violation message names the rule, and the engine attaches the resource. */
function rule(name: string, description: string, check: (args: ResourceValidationArgs, country: string) => string | undefined | string[]): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: 'mandatory',
    configSchema,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      const found = check(args, countryOf(args));
      for (const message of typeof found === 'string' ? [found] : (found ?? [])) report(`[${name}] ${args.type} "${args.name}": ${message}`);
    },
  };
}

const explicitProvider = rule(
  'lectern-explicit-provider',
  'Every AWS resource uses an explicit provider, never a default one (whose region comes from the shell).',
  (args) => {
    if (!isAwsResource(args.type)) return undefined;
    const provider = args.provider;
    if (!provider || provider.urn === '' || provider.name.startsWith('default')) return 'uses a default AWS provider';
    return undefined;
  },
);

const providerInCountry = rule(
  'lectern-provider-in-country',
  'Every AWS provider, and the provider of every AWS resource, is pinned to a region allowed for the country.',
  (args, country) => {
    if (args.type === AWS_PROVIDER) {
      const region = typeof args.props.region === 'string' ? args.props.region : undefined;
      return region && controlRegions(country).has(region) ? undefined : `provider region ${describeRegion(region)} is not allowed for ${country}`;
    }
    if (!isAwsResource(args.type) || !args.provider) return undefined;
    const region = args.provider.props.region;
    return typeof region === 'string' && controlRegions(country).has(region)
      ? undefined
      : `provider region ${describeRegion(typeof region === 'string' ? region : undefined)} is not allowed for ${country}`;
  },
);

const noRegionOverride = rule(
  'lectern-no-region-override',
  'No resource overrides its provider region (the per-resource `region` input of @pulumi/aws v7).',
  (args) => {
    if (!isAwsResource(args.type)) return undefined;
    const own = args.props.region;
    const pinned = args.provider?.props.region;
    return typeof own === 'string' && own !== '' && own !== pinned ? `region overridden to ${own} (provider: ${String(pinned)})` : undefined;
  },
);

const zoneInCountry = rule(
  'lectern-zone-in-country',
  'Zonal resources (hosts, volumes, subnets, addresses, zone opt-ins) sit in a zone inside the country.',
  (args, country) => {
    if (!ZONAL_TYPES.has(args.type)) return undefined;
    const p = args.props;
    const location: unknown = p.availabilityZone ?? p.networkBorderGroup ?? p.groupName ?? (args.type === 'aws:ec2/eip:Eip' ? regionOf(args) : undefined);
    // An instance without an explicit zone takes its subnet's, which this rule checks on the subnet.
    if (location === undefined && args.type === 'aws:ec2/instance:Instance') return undefined;
    if (typeof location !== 'string') return `has no zone, so AWS would choose one (${country} required)`;
    const where = countryOfLocation(location);
    return where === country ? undefined : `zone ${location} is in ${where ?? 'an uncatalogued place'}, not ${country}`;
  },
);

const dataInCountry = rule(
  'lectern-data-in-country',
  'Data-holding services are in an in-country region; control-plane metadata only in-country or in the parent region of an in-country Local Zone; every AWS type is classified.',
  (args, country) => {
    // Purely zonal types (hosts, volumes, addresses) are held to their zone by lectern-zone-in-country.
    if (!isAwsResource(args.type) || (ZONAL_TYPES.has(args.type) && !REGIONAL_CONTROL_TYPES.has(args.type))) return undefined;
    const region = regionOf(args);
    if (REGIONAL_DATA_TYPES.has(args.type)) {
      return region && dataRegions(country).has(region) ? undefined : `stores data in ${describeRegion(region)}, outside ${country}`;
    }
    if (REGIONAL_CONTROL_TYPES.has(args.type)) {
      return region && controlRegions(country).has(region) ? undefined : `keeps metadata in ${describeRegion(region)}, not allowed for ${country}`;
    }
    if (GLOBAL_METADATA_TYPES.has(args.type)) return undefined;
    if (GLOBAL_SERVICE_PREFIXES.some((prefix) => args.type.startsWith(prefix)) || REPLICATION_TYPES.has(args.type)) return undefined;
    return 'type not classified for residency (add it to config/residency/resource-classes.ts after checking where it keeps data)';
  },
);

const noGlobalServices = rule(
  'lectern-no-global-services',
  'No global or edge services (CloudFront, Global Accelerator, Route 53, WAF, Cognito, S3 acceleration/website, multi-Region access points).',
  (args) => (GLOBAL_SERVICE_PREFIXES.some((prefix) => args.type.startsWith(prefix)) ? 'is a global/edge service: its data or metadata leaves the country' : undefined),
);

const noReplication = rule(
  'lectern-no-replication',
  'Nothing copies data to another region: no bucket replication, snapshot/AMI copies, DLM cross-region rules, global tables or replica keys.',
  (args) => {
    if (REPLICATION_TYPES.has(args.type)) return 'exists to copy data to another region';
    const p = args.props;
    if (args.type === 'aws:s3/bucket:Bucket' && p.replicationConfiguration) return 'has a replication configuration';
    if (args.type === 'aws:dlm/lifecyclePolicy:LifecyclePolicy') {
      const schedules: unknown[] = p.policyDetails?.schedules ?? [];
      const crossRegion = schedules.some((s) => Array.isArray((s as { crossRegionCopyRules?: unknown[] }).crossRegionCopyRules) && ((s as { crossRegionCopyRules: unknown[] }).crossRegionCopyRules.length > 0));
      if (crossRegion) return 'has cross-region copy rules';
    }
    if (args.type === 'aws:dynamodb/table:Table' && Array.isArray(p.replicas) && p.replicas.length > 0) return 'has replicas in other regions';
    return undefined;
  },
);

const singleRegionKeys = rule(
  'lectern-single-region-keys',
  'KMS keys are single-region (a multi-Region key can be replicated out of the country).',
  (args) => (args.type === 'aws:kms/key:Key' && args.props.multiRegion === true ? 'is a multi-Region key' : undefined),
);

const PUBLIC_ACLS = new Set(['public-read', 'public-read-write', 'authenticated-read']);

const noPublicBuckets = rule(
  'lectern-no-public-buckets',
  'Buckets are private: no public ACLs or grants, no Allow-to-everyone policy, public access fully blocked.',
  (args) => {
    const p = args.props;
    switch (args.type) {
      case 'aws:s3/bucket:Bucket':
        return PUBLIC_ACLS.has(p.acl) ? `has public ACL ${p.acl}` : undefined;
      case 'aws:s3/bucketAcl:BucketAcl': {
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
  'Everything stored is encrypted: host and data volumes, buckets (SSE), log groups (KMS), parameters (SecureString).',
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
      case 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': {
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

/** Stack-level: every bucket has a full public-access block and default encryption attached. */
const bucketGuards: StackValidationPolicy = {
  name: 'lectern-bucket-guards',
  description: 'Every bucket has a public access block and a default-encryption configuration.',
  enforcementLevel: 'mandatory',
  configSchema,
  validateStack: (args, report) => {
    const buckets = args.resources.filter((r) => r.type === 'aws:s3/bucket:Bucket');
    for (const bucket of buckets) {
      const guards = args.resources.filter((r) => r.dependencies.includes(bucket) || r.propertyDependencies.bucket?.includes(bucket));
      for (const [type, what] of [
        ['aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'public access block'],
        ['aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'default encryption'],
      ] as const) {
        if (!guards.some((g) => g.type === type)) report(`[lectern-bucket-guards] ${bucket.type} "${bucket.name}": has no ${what}`, bucket.urn);
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
export const residencyStackPolicies: readonly StackValidationPolicy[] = [bucketGuards];

/** Every rule of the pack. */
export const residencyPolicies: ReadonlyArray<ResourceValidationPolicy | StackValidationPolicy> = [...residencyResourcePolicies, ...residencyStackPolicies];
