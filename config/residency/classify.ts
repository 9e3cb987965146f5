// The one residency classification of a cloud resource: what it does (stores, runs, control metadata,
// global service, copies), where (zone/region/country, derived from the resource and its provider, never
// from a name or a tag), who operates it and under which country's law. The policy pack
// (infra/residency/policies.ts) and the audit (audit/model/resources.ts) both call classifyResource()
// and residencyViolations(), so they cannot disagree about a resource.
import { AWS_LOCAL_ZONES, AWS_REGIONS, findLocalZone, findRegion } from './catalogue.js';
import {
  COMPONENT_PACKAGES,
  COMPUTE_TYPES,
  GLOBAL_METADATA_TYPES,
  GLOBAL_SERVICE_PREFIXES,
  PLACED_PACKAGES,
  REGIONAL_CONTROL_TYPES,
  REGIONAL_DATA_TYPES,
  STATE_ONLY_PACKAGES,
  ZONAL_DATA_TYPES,
  ZONAL_TYPES,
} from './resource-classes.js';

/** What a resource is, for residency. */
export type ResourceRole =
  | 'stores' // data at rest
  | 'runs' // compute
  | 'control' // regional control-plane metadata
  | 'global-metadata' // IAM: metadata in a worldwide control plane
  | 'global-service' // CloudFront, Route 53, ...: never allowed
  | 'state-only' // kept only in the Pulumi state
  | 'component' // a logical grouping
  | 'provider' // a provider configuration
  | 'unclassified';

/** A resource as both sides see it: the policy engine's args, or a stack export's state. */
export interface ResourceInput {
  type: string;
  name: string;
  urn?: string | undefined;
  /** Inputs (and, from a stack export, outputs underneath them). */
  props: Record<string, unknown>;
  /** The provider resource it was created with; undefined when none is recorded. */
  provider?: { type: string; name: string; urn: string; props: Record<string, unknown> } | undefined;
  /** false for a component resource (stack exports say so). */
  custom?: boolean | undefined;
}

/** Other resources of the same stack, to follow ids and ARNs (a subnet's zone, a bucket's region). */
export interface StackIndex {
  /** The resource whose id, ARN or bucket name this is. */
  find(ref: string): ResourceInput | undefined;
  /**
   * True when every resource and its id is known (a stack export): a reference that resolves to
   * nothing is then a place not established. False at preview, where ids are not known yet.
   */
  complete: boolean;
}

/** A place a resource is in or touches. */
export interface Place {
  /** Region code, zone name, `global`, or null when not established. */
  code: string | null;
  /** ISO country, or null when not established. */
  country: string | null;
  /** `subnet`: in its subnet's zone, which is judged on the subnet (a preview does not know the subnet's id yet). */
  scope: 'zone' | 'region' | 'global' | 'state' | 'none' | 'subnet' | 'unknown';
  /** How it was derived. */
  basis: string;
}

/** Who runs the service, and the country whose law binds them (their jurisdiction). */
export interface Operator {
  name: string;
  /** ISO country whose law binds the operator; null when not established. */
  jurisdiction: string | null;
  basis: string;
}

/** A place the resource sends data to (or takes it from), from its own configuration. */
export interface CopyTarget {
  place: Place;
  /** Property path that says so, e.g. `rules[0].destination.bucket`. */
  via: string;
}

/** The classification of one resource. */
export interface Classification {
  role: ResourceRole;
  /** Provider package (`aws`, `gcp`, `random`, ...). */
  package: string;
  /** Human service name (`s3`, `ec2`, `CloudFront`). */
  service: string;
  location: Place;
  operator: Operator | null;
  /** Places its configuration names besides its own (ARNs, region fields, JSON policies). */
  touches: CopyTarget[];
  /** Property paths that copy data elsewhere (replicas, replication, copy actions, cross-region rules). */
  copies: Array<{ via: string; targets: Place[] }>;
  /** True when the type exists to copy data (a replica, a copy, a replication configuration). */
  copyByNature: boolean;
  /** Provider was a default provider or none at all. */
  defaultProvider: boolean;
  /** Region given on the resource itself that differs from its provider's. */
  regionOverride: string | null;
}

/** What residency a deployment asks for. */
export interface ResidencyRules {
  country: string;
  /** deployment.acceptParentRegionControlPlane: control metadata may sit in an in-country Local Zone's parent region. */
  acceptParentRegionControlPlane?: boolean | undefined;
}

/** Why a resource is refused (or, with `accepted`, allowed by a named config key). */
export type ViolationRule =
  | 'not-classified'
  | 'location-not-established'
  | 'outside-country'
  | 'zone-outside-country'
  | 'provider-outside-country'
  | 'copies-outside-country'
  | 'copy-target-unknown'
  | 'multi-region-key'
  | 'global-service'
  | 'default-provider'
  | 'region-override'
  | 'parent-region-control-plane';

/** One residency problem of a resource. */
export interface Violation {
  rule: ViolationRule;
  message: string;
  /** The config key that accepts this knowingly; an accepted violation is an exception, not a failure. */
  accepted?: string;
}

/** AWS, Inc. answers to US law wherever its data centre is; the European Sovereign Cloud is a German company. */
export const AWS_OPERATOR: Operator = { name: 'Amazon Web Services, Inc.', jurisdiction: 'US', basis: 'AWS commercial partition: operated by Amazon Web Services, Inc. (US), subject to US law (CLOUD Act) in every region' };
const AWS_EUSC_OPERATOR: Operator = { name: 'AWS European Sovereign Cloud GmbH', jurisdiction: 'DE', basis: 'aws-eusc partition: operated by a German company' };

// Shapes of AWS region and zone names, catalogued or not (an uncatalogued one is a place not established).
const DIRECTION = '(north|south|east|west|central|northeast|southeast|northwest|southwest)';
const REGION_PATTERN = new RegExp(`^[a-z]{2}(sc)?(-gov|-iso[a-z]?|-[a-z]{2})?-${DIRECTION}-\\d$`);
const ZONE_PATTERN = new RegExp(`^[a-z]{2}(sc)?(-gov|-iso[a-z]?|-[a-z]{2})?-${DIRECTION}-\\d([a-z]|-[a-z]{3}-\\d[a-z]?)$`);
const ARN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):/;
// Property names that say "this data is also kept somewhere else" (or was brought from there: an
// ElastiCache group seeded from RDB files in S3, `snapshotArns`, must name where those files are). Matched on the last path segment;
// a boolean counts only for the multi-Region switches, so `copyTagsToSnapshot: true` is not a copy.
const COPY_FIELD = /^(replicas?|replicaRegions?|replicationConfigurations?|replicationSourceIdentifier|replicateSourceDb|sourceDbInstanceArn|sourceDbClusterSnapshotIdentifier|globalClusterIdentifier|globalTableArn|globalReplicationGroupId|copyActions?|crossRegionCopyRules?|crossRegionCopies|crossRegionCopy|destination|destinations|destinationArn|destinationVaultArn|destinationRegion|sourceRegion|sourceAmiRegion|sourceSnapshotArn|primaryKeyArn|snapshotCopy|multiRegionClusterName|peerRegion|snapshotArns|snapshotArnsToRestores)$/;
const MULTI_REGION_SWITCH = /^(multiRegion|isMultiRegionTrail|multiRegionEnabled)$/;
// Type names that exist to copy data: a replica, a copy, a replication or global configuration. An
// ElastiCache ReplicationGroup is a primary and its replicas in one region (a copy elsewhere is a
// global datastore, or its own fields): judged on what it names, not on its name.
const COPY_TYPE = /(Replica(?!tionGroup$)|Replication(?!Group$)|Copy|Global(Table|Cluster|ReplicationGroup)|MultiRegion)/;
// Props that are the resource's own placement, or free text: not places it sends data to.
const OWN_PLACE_KEYS = new Set(['region', 'availabilityZone', 'networkBorderGroup', 'groupName', 'tags', 'tagsAll', 'userData', 'userDataBase64']);

/** Classify one resource. */
export function classifyResource(r: ResourceInput, stack?: StackIndex): Classification {
  const pkg = packageOf(r.type);
  const service = serviceOf(r.type);
  const none: Place = { code: null, country: null, scope: 'none', basis: 'no location of its own' };
  const base = { package: pkg, service, touches: [], copies: [], copyByNature: false, defaultProvider: false, regionOverride: null };
  if (r.type === 'pulumi:pulumi:Stack' || r.custom === false || COMPONENT_PACKAGES.has(pkg)) {
    return { ...base, role: 'component', location: none, operator: null };
  }
  if (r.type.startsWith('pulumi:providers:')) {
    const providerPkg = r.type.slice('pulumi:providers:'.length);
    if (STATE_ONLY_PACKAGES.has(providerPkg)) return { ...base, package: providerPkg, role: 'provider', location: stateLocation(), operator: null };
    if (!PLACED_PACKAGES.has(providerPkg)) return { ...base, package: providerPkg, role: 'unclassified', location: unknown(`provider package ${providerPkg} is not one the residency catalogue can place`), operator: null };
    const region = str(r.props.region);
    return { ...base, package: providerPkg, role: 'provider', location: regionPlace(region, region ? `provider ${r.name} region` : `provider ${r.name} sets no region (taken from the operator's environment)`), operator: operatorOf(region) };
  }
  if (STATE_ONLY_PACKAGES.has(pkg)) return { ...base, role: 'state-only', location: stateLocation(), operator: null };
  if (!PLACED_PACKAGES.has(pkg)) {
    return { ...base, role: 'unclassified', location: unknown(`${pkg} resources cannot be placed: the residency catalogue knows AWS regions and zones only`), operator: null };
  }

  const providerRegion = r.provider ? str(r.provider.props.region) : undefined;
  const ownRegion = str(r.props.region);
  const region = ownRegion ?? providerRegion;
  const defaultProvider = !r.provider || r.provider.urn === '' || /^default(_|$)/.test(r.provider.name);
  const regionOverride = ownRegion && ownRegion !== providerRegion ? ownRegion : null;
  const regionBasis = ownRegion ? `its own region argument ${ownRegion}` : r.provider ? `region of provider ${r.provider.name}` : 'no provider recorded';
  const global = GLOBAL_SERVICE_PREFIXES.find(([prefix]) => r.type.startsWith(prefix));
  const walked = walkPlaces(r.props, stack);
  const common = { ...base, touches: walked.touches, copies: walked.copies, copyByNature: COPY_TYPE.test(r.type.split(':').pop() ?? ''), defaultProvider, regionOverride };

  if (GLOBAL_METADATA_TYPES.has(r.type)) return { ...common, role: 'global-metadata', service: 'IAM', location: globalPlace('IAM'), operator: AWS_OPERATOR };
  if (global) return { ...common, role: 'global-service', service: global[1], location: globalPlace(global[1]), operator: AWS_OPERATOR };

  const role: ResourceRole = REGIONAL_DATA_TYPES.has(r.type) || ZONAL_DATA_TYPES.has(r.type)
    ? 'stores'
    : COMPUTE_TYPES.has(r.type)
      ? 'runs'
      : REGIONAL_CONTROL_TYPES.has(r.type) || ZONAL_TYPES.has(r.type)
        ? 'control'
        : 'unclassified';
  if (role === 'unclassified') return { ...common, role, location: unknown(`${r.type} is not classified: where it keeps data has not been checked`), operator: AWS_OPERATOR };
  let location = regionPlace(region, regionBasis);
  if (ZONAL_TYPES.has(r.type)) {
    const zone = str(r.props.availabilityZone) ?? str(r.props.networkBorderGroup) ?? str(r.props.groupName);
    const subnetRef = str(r.props.subnetId);
    const subnet = !zone && subnetRef && stack ? stack.find(subnetRef) : undefined;
    const viaSubnet = subnet ? str(subnet.props.availabilityZone) : undefined;
    if (regionOverride && !(zone ?? viaSubnet ?? '').startsWith(regionOverride)) location = regionPlace(regionOverride, `its own region argument ${regionOverride} (a zone elsewhere cannot hold it)`);
    else if (zone) location = zonePlace(zone, `its zone ${zone}`);
    else if (viaSubnet) location = zonePlace(viaSubnet, `zone ${viaSubnet} of its subnet ${subnet!.name}`);
    else if ('subnetId' in r.props && !stack?.complete) location = { code: null, country: null, scope: 'subnet', basis: 'in the zone of its subnet, which is checked on the subnet' };
    else if (subnetRef) location = unknown(`its subnet ${subnetRef} is not in the stack, so its zone is not established`);
  }
  return { ...common, role, location, operator: operatorOf(location.code ?? region) };
}

/** The residency problems of a classified resource under the deployment's rules. */
export function residencyViolations(c: Classification, r: ResourceInput, rules: ResidencyRules): Violation[] {
  const out: Violation[] = [];
  const { country } = rules;
  const parents = parentRegions(country);
  const accept = rules.acceptParentRegionControlPlane === true;
  const acceptKey = 'deployment.acceptParentRegionControlPlane';
  const where = (p: Place): string => `${p.code ?? 'unknown place'} (${p.country ?? 'country not established'})`;
  if (c.role === 'component' || c.role === 'state-only') return out;
  if (c.role === 'unclassified') {
    out.push({ rule: 'not-classified', message: `type not classified for residency: ${c.location.basis} (add it to config/residency/resource-classes.ts after checking where it keeps data)` });
    return out;
  }
  if (c.role === 'provider') {
    if (c.package !== 'aws') return out;
    if (c.location.country === null) out.push({ rule: 'location-not-established', message: c.location.basis });
    else if (c.location.country !== country) {
      if (c.location.code && parents.has(c.location.code)) out.push({ rule: 'parent-region-control-plane', message: `provider region ${where(c.location)} is the parent region of ${country}'s Local Zone`, ...(accept ? { accepted: acceptKey } : {}) });
      else out.push({ rule: 'provider-outside-country', message: `provider region ${where(c.location)} is outside ${country}` });
    }
    return out;
  }
  if (c.defaultProvider) out.push({ rule: 'default-provider', message: 'uses a default provider: its region comes from the environment of whoever runs pulumi' });
  if (c.regionOverride) out.push({ rule: 'region-override', message: `overrides its provider's region with ${c.regionOverride}` });
  const providerRegion = r.provider ? str(r.provider.props.region) : undefined;
  if (providerRegion && !allowedControl(providerRegion)) out.push({ rule: 'provider-outside-country', message: `provider region ${providerRegion} (${findRegion(providerRegion)?.country ?? 'not catalogued'}) is not allowed for ${country}` });

  if (c.role === 'global-service') {
    out.push({ rule: 'global-service', message: `${c.service} is a global/edge service: its data or metadata leaves ${country}` });
  } else if (c.role !== 'global-metadata') {
    const loc = c.location;
    const zonal = loc.scope === 'zone';
    if (loc.scope === 'subnet') {
      // Judged on the subnet resource.
    } else if (loc.country === null) out.push({ rule: 'location-not-established', message: `location not established: ${loc.basis}` });
    else if (loc.country !== country) {
      if (c.role === 'control' && loc.code && parents.has(loc.code)) {
        out.push({ rule: 'parent-region-control-plane', message: `keeps control-plane metadata in ${where(loc)}, the parent region of ${country}'s Local Zone`, ...(accept ? { accepted: acceptKey } : {}) });
      } else {
        const verb = c.role === 'stores' ? 'stores data' : c.role === 'runs' ? 'runs' : 'keeps metadata';
        out.push({ rule: zonal ? 'zone-outside-country' : 'outside-country', message: `${verb} in ${where(loc)}, outside ${country} (${loc.basis})` });
      }
    }
  }
  // Every other place its configuration names (ARNs, region fields, policies).
  for (const t of c.touches) {
    if (t.place.country === country) continue;
    if (t.place.code && parents.has(t.place.code) && c.role !== 'stores' && c.role !== 'runs') {
      out.push({ rule: 'parent-region-control-plane', message: `${t.via} names ${where(t.place)}, the parent region of ${country}'s Local Zone`, ...(accept ? { accepted: acceptKey } : {}) });
      continue;
    }
    out.push({ rule: 'copies-outside-country', message: `${t.via} sends data to or takes it from ${where(t.place)}, outside ${country}` });
  }
  for (const copy of c.copies) {
    if (copy.via.split('.').pop()?.replace(/\[\d+\]$/, '') === 'multiRegion') {
      out.push({ rule: 'multi-region-key', message: 'is a multi-Region key: replicas can be made in any region' });
    } else if (copy.targets.length === 0) {
      out.push({ rule: 'copy-target-unknown', message: `${copy.via} copies data to a place that cannot be established` });
    }
  }
  out.push(...dlmSnapshotsAbroad(r, c.regionOverride ?? providerRegion, country));
  if (c.copyByNature && c.copies.length === 0 && c.touches.length === 0) {
    out.push({ rule: 'copy-target-unknown', message: `${r.type.split(':').pop()} exists to copy data, and where the copy comes from or goes to cannot be established` });
  }
  return dedupe(out);

  function allowedControl(code: string): boolean {
    const p = regionPlace(code, '');
    return p.country === country || (accept && parents.has(code));
  }
}

/** Regions that are parents of a Local Zone in `country` (and not themselves in it). */
export function parentRegions(country: string): Set<string> {
  return new Set(AWS_LOCAL_ZONES.filter((z) => z.country === country && findRegion(z.parentRegion)?.country !== country).map((z) => z.parentRegion));
}

/** The operator of AWS in this region's partition. */
export function operatorOf(regionOrZone: string | undefined): Operator {
  if (regionOrZone?.startsWith('eusc-')) return AWS_EUSC_OPERATOR;
  return AWS_OPERATOR;
}

/** Place of a region code. */
export function regionPlace(code: string | undefined, basis: string): Place {
  if (!code) return unknown(basis || 'no region');
  const region = findRegion(code);
  if (region) return { code, country: region.country, scope: 'region', basis };
  const zone = zonePlace(code, basis);
  if (zone.country) return zone;
  return { code, country: null, scope: 'unknown', basis: `${basis}: ${code} is not a catalogued region` };
}

/** Place of an Availability Zone, Local Zone or zone group name. */
export function zonePlace(code: string, basis: string): Place {
  const lz = findLocalZone(code) ?? AWS_LOCAL_ZONES.find((z) => z.group === code);
  if (lz) return { code, country: lz.country, scope: 'zone', basis };
  const region = AWS_REGIONS.find((rg) => code.length === rg.code.length + 1 && code.startsWith(rg.code)) ?? findRegion(code);
  if (region) return { code, country: region.country, scope: region.code === code ? 'region' : 'zone', basis };
  return { code, country: null, scope: 'unknown', basis: `${basis}: ${code} is not a catalogued zone` };
}

function globalPlace(service: string): Place {
  return { code: 'global', country: 'US', scope: 'global', basis: `${service} is a global AWS service (control plane in us-east-1)` };
}

function stateLocation(): Place {
  return { code: null, country: null, scope: 'state', basis: 'computed by the Pulumi engine and kept only in the Pulumi state' };
}

function unknown(basis: string): Place {
  return { code: null, country: null, scope: 'unknown', basis };
}

function packageOf(type: string): string {
  return type.split(':')[0] ?? type;
}

function serviceOf(type: string): string {
  return type.split(':')[1]?.split('/')[0] ?? type;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Every place named anywhere in the props, and every copy field with the places under it. */
function walkPlaces(props: Record<string, unknown>, stack: StackIndex | undefined): { touches: CopyTarget[]; copies: Array<{ via: string; targets: Place[] }> } {
  const touches: CopyTarget[] = [];
  const copies: Array<{ via: string; targets: Place[] }> = [];
  const visit = (value: unknown, path: string, depth: number, copy: { via: string; targets: Place[] } | undefined): void => {
    if (depth > 12 || value === null || value === undefined) return;
    if (typeof value === 'string') {
      const place = placeOfString(value, path, stack);
      if (place) {
        touches.push({ place, via: path });
        copy?.targets.push(place);
      } else if (/^\s*[{[]/.test(value)) {
        try {
          visit(JSON.parse(value), path, depth + 1, copy);
        } catch {
          // Not JSON: free text is not read for places.
        }
      }
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, `${path}[${i}]`, depth + 1, copy));
      return;
    }
    if (typeof value !== 'object') return;
    if ('4dabf18193072939515e22adb298388d' in value) return; // a Pulumi secret: not readable here
    for (const [key, v] of Object.entries(value)) {
      if (depth === 0 && OWN_PLACE_KEYS.has(key)) continue;
      const child = path ? `${path}.${key}` : key;
      let inner = copy;
      if (!copy && (COPY_FIELD.test(key) && meaningful(v) || MULTI_REGION_SWITCH.test(key) && v === true)) {
        inner = { via: child, targets: [] };
        copies.push(inner);
      }
      visit(v, child, depth + 1, inner);
    }
  };
  visit(props, '', 0, undefined);
  return { touches: dedupeTouches(touches), copies };
}

function meaningful(v: unknown): boolean {
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v === 'object' && v !== null && Object.keys(v).length > 0;
}

function placeOfString(value: string, path: string, stack: StackIndex | undefined): Place | undefined {
  if (REGION_PATTERN.test(value) || findRegion(value)) return regionPlace(value, `${path} = ${value}`);
  if (ZONE_PATTERN.test(value) || findLocalZone(value)) return zonePlace(value, `${path} = ${value}`);
  const arn = ARN.exec(value);
  if (arn) {
    if (arn[3]) return regionPlace(arn[3], `region of the ARN in ${path}`);
    const target = stack?.find(value);
    if (target && target.props !== undefined) {
      const c = classifyResource(target, undefined);
      if (c.location.country !== null && c.location.scope !== 'global') return { ...c.location, basis: `${path} names ${target.name}, ${c.location.basis}` };
    }
  }
  return undefined;
}

function dedupeTouches(list: CopyTarget[]): CopyTarget[] {
  const seen = new Set<string>();
  return list.filter((t) => {
    const key = `${t.place.code}|${t.via.replace(/\[\d+\]/g, '[]')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function dedupe(list: Violation[]): Violation[] {
  const seen = new Set<string>();
  return list.filter((v) => {
    const key = `${v.rule}|${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A DLM policy's snapshots (and images) are kept where its rule says: createRule.location CLOUD, the
 * default, is the policy's region, which for a Local Zone deployment is the parent region, abroad;
 * LOCAL_ZONE keeps them in the zone. Nothing else in the policy names that place, so it is read here.
 */
function dlmSnapshotsAbroad(r: ResourceInput, region: string | undefined, country: string): Violation[] {
  if (r.type !== 'aws:dlm/lifecyclePolicy:LifecyclePolicy') return [];
  const details = (r.props.policyDetails ?? {}) as { policyType?: unknown; schedules?: unknown };
  if (details.policyType === 'EVENT_BASED_POLICY' || !Array.isArray(details.schedules)) return [];
  const place = regionPlace(region, region ? `the policy's region ${region}` : 'the policy has no region');
  if (place.country === country) return [];
  return details.schedules.flatMap((schedule: { name?: unknown; createRule?: { location?: unknown } }, i) => {
    const location = schedule?.createRule?.location ?? 'CLOUD';
    // OUTPOST_LOCAL is wherever that Outpost stands: not established, so not accepted either.
    if (location === 'LOCAL_ZONE') return [];
    return [{ rule: 'copies-outside-country' as const, message: `policyDetails.schedules[${i}]${typeof schedule?.name === 'string' ? ` (${schedule.name})` : ''} keeps its snapshots in ${region ?? 'an unknown region'} (${place.country ?? 'country not established'}): createRule.location ${String(location)}${schedule?.createRule?.location === undefined ? ', the default,' : ''} is the policy's region, outside ${country}` }];
  });
}
