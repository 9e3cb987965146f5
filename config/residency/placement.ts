// The placement decision: from a country (and optionally a chosen region or Local Zone) to where every
// piece of a Lectern deployment lives. Pure: the Pulumi program builds from it, the audit checks
// stack outputs against it, and both refuse the same things for the same reasons.
import {
  AWS_LOCAL_ZONES,
  AWS_REGIONS,
  GLOBAL_SERVICES,
  LOCAL_ZONE_SERVICES,
  findLocalZone,
  findRegion,
  type AwsLocalZone,
  type AwsRegion,
  type AwsService,
  type ServiceScope,
} from './catalogue.js';

/** A placement request, as the deployment config states it. */
export interface PlacementRequest {
  country: string;
  placement?: string | undefined;
  availabilityZone?: string | undefined;
  acceptParentRegionControlPlane?: boolean | undefined;
}

/** Where one kind of data (or metadata) ends up. */
export interface DataLocation {
  /** What is stored, in the domain's words: `recordings`, `logs`, `hosts`, ... */
  readonly what: string;
  readonly service: AwsService;
  readonly scope: ServiceScope;
  /** Zone name, region code, or `global`. */
  readonly location: string;
  /** ISO country code, or `global` for worldwide control planes. */
  readonly country: string;
  readonly inCountry: boolean;
}

/** Something that leaves the country by design and that the university accepts knowingly. */
export interface Caveat {
  readonly id: string;
  readonly text: string;
}

/** The decision: where things go, and what is knowingly outside the country. */
export interface Placement {
  readonly country: string;
  readonly kind: 'region' | 'local-zone';
  /** The region code or Local Zone name chosen. */
  readonly name: string;
  /** Region every API call goes to: the explicit provider is pinned here. */
  readonly providerRegion: string;
  readonly availabilityZone: string;
  /** Network border group for Elastic IPs (the zone group in a Local Zone, else the region). */
  readonly networkBorderGroup: string;
  /** Local Zone opt-in group, when the placement is a Local Zone. */
  readonly optInGroup?: string;
  /** Where recordings and logs are kept: S3/CloudWatch in a region, an encrypted EBS volume in a zone. */
  readonly dataStore: 'regional-services' | 'zone-volume';
  /** EBS volume type to use (Local Zones do not all offer gp3). */
  readonly volumeType: string;
  readonly locations: readonly DataLocation[];
  readonly caveats: readonly Caveat[];
}

/** A placement that would put something outside the country, or that cannot be made at all. */
export class ResidencyError extends Error {
  /** One line per problem. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`residency: ${problems.join('; ')}`);
    this.name = 'ResidencyError';
    this.problems = problems;
  }
}

/** Every placement AWS offers inside a country, full regions first (they keep all services in-country). */
export function placementsIn(country: string): Array<AwsRegion | AwsLocalZone> {
  return [
    ...AWS_REGIONS.filter((region) => region.country === country && region.partition === 'aws'),
    ...AWS_LOCAL_ZONES.filter((zone) => zone.country === country),
  ];
}

/** Decide the placement, or throw ResidencyError saying exactly why not. */
export function decidePlacement(request: PlacementRequest): Placement {
  const options = placementsIn(request.country);
  if (options.length === 0) {
    throw new ResidencyError([
      `AWS has no region or Local Zone in ${request.country}; Lectern cannot be placed there on AWS. ` +
        'Run it on servers the university controls inside the country instead (bring your own servers: ' +
        'see docs/deploy.md, "No AWS in your country")',
    ]);
  }
  const chosen = request.placement === undefined ? options[0]! : options.find((o) => nameOf(o) === request.placement);
  if (!chosen) {
    const elsewhere = findRegion(request.placement!) ?? findLocalZone(request.placement!);
    const where = elsewhere ? `${request.placement} is in ${elsewhere.country}, not ${request.country}` : `${request.placement} is not a catalogued AWS region or Local Zone`;
    throw new ResidencyError([`${where}; placements in ${request.country}: ${options.map(describeOption).join(', ')}`]);
  }
  return chosen.kind === 'region' ? regionPlacement(chosen, request) : zonePlacement(chosen, request);
}

function regionPlacement(region: AwsRegion, request: PlacementRequest): Placement {
  const zones = region.zoneSuffixes.map((suffix) => `${region.code}${suffix}`);
  const availabilityZone = request.availabilityZone ?? zones[0]!;
  if (!zones.includes(availabilityZone)) {
    throw new ResidencyError([`availabilityZone ${availabilityZone} is not one of ${region.code}'s zones (${zones.join(', ')})`]);
  }
  const here = (what: string, service: AwsService): DataLocation =>
    located(what, service, 'region', region.code, region.country, request.country);
  return {
    country: request.country,
    kind: 'region',
    name: region.code,
    providerRegion: region.code,
    availabilityZone,
    networkBorderGroup: region.code,
    dataStore: 'regional-services',
    volumeType: 'gp3',
    locations: [
      located('hosts', 'ec2', 'zone', availabilityZone, region.country, request.country),
      located('host volumes', 'ebs', 'zone', availabilityZone, region.country, request.country),
      here('recordings', 's3'),
      here('logs', 'logs'),
      here('encryption keys', 'kms'),
      here('TURN credential', 'ssm'),
      here('control plane', 'ec2'),
      globalLocation(request.country),
    ],
    caveats: [iamCaveat()],
  };
}

function zonePlacement(zone: AwsLocalZone, request: PlacementRequest): Placement {
  const parent = findRegion(zone.parentRegion)!;
  if (request.availabilityZone !== undefined && request.availabilityZone !== zone.name) {
    throw new ResidencyError([`availabilityZone ${request.availabilityZone} is not the Local Zone ${zone.name}`]);
  }
  if (!request.acceptParentRegionControlPlane) {
    throw new ResidencyError([
      `${zone.name} (${zone.city}) is a Local Zone: hosts and volumes stay in ${zone.country}, but its control plane, ` +
        `EBS encryption keys and the TURN credential live in the parent region ${parent.code} (${parent.country}). ` +
        'Set deployment.acceptParentRegionControlPlane: true to accept this knowingly',
    ]);
  }
  const inZone = (what: string, service: AwsService): DataLocation => {
    if (!LOCAL_ZONE_SERVICES.includes(service)) throw new Error(`${service} does not run in a Local Zone`);
    return located(what, service, 'zone', zone.name, zone.country, request.country);
  };
  const inParent = (what: string, service: AwsService): DataLocation =>
    located(what, service, 'region', parent.code, parent.country, request.country);
  return {
    country: request.country,
    kind: 'local-zone',
    name: zone.name,
    providerRegion: parent.code,
    availabilityZone: zone.name,
    networkBorderGroup: zone.group,
    optInGroup: zone.group,
    // S3, KMS and CloudWatch Logs would be in the parent region: recordings and logs stay on EBS in the zone.
    dataStore: 'zone-volume',
    volumeType: zone.ebsVolumeTypes[0]!,
    locations: [
      inZone('hosts', 'ec2'),
      inZone('host volumes', 'ebs'),
      inZone('recordings', 'ebs'),
      inZone('logs', 'ebs'),
      inParent('encryption keys', 'kms'),
      inParent('TURN credential', 'ssm'),
      inParent('control plane', 'ec2'),
      globalLocation(request.country),
    ],
    caveats: [
      {
        id: 'parent-region-control-plane',
        text:
          `API calls, instance metadata (names, tags, user-data) and security-group rules for ${zone.name} are ` +
          `held by ${parent.code} (${parent.country}). No recordings or logs are stored there.`,
      },
      {
        id: 'parent-region-kms',
        text: `EBS volumes in ${zone.name} are encrypted under the AWS-managed EBS key in ${parent.code} (${parent.country}); data stays in the zone.`,
      },
      {
        id: 'parent-region-ssm',
        text: `The TURN credential (an operational secret, no personal data) is an SSM SecureString in ${parent.code} (${parent.country}).`,
      },
      {
        id: 'no-snapshots',
        text: `No EBS snapshots are taken: snapshots default to ${parent.code} (${parent.country}). Back up inside ${zone.country} by other means.`,
      },
      iamCaveat(),
    ],
  };
}

function located(what: string, service: AwsService, scope: ServiceScope, location: string, country: string, wanted: string): DataLocation {
  return { what, service, scope, location, country, inCountry: country === wanted };
}

function globalLocation(wanted: string): DataLocation {
  const service = GLOBAL_SERVICES[0]!;
  return { what: 'IAM role and policy metadata', service, scope: 'global', location: 'global', country: 'global', inCountry: wanted === 'global' };
}

function iamCaveat(): Caveat {
  return {
    id: 'iam-global',
    text: 'IAM is a global service: the host role and policy (names and ARNs only, no personal data) are held outside the country.',
  };
}

function nameOf(option: AwsRegion | AwsLocalZone): string {
  return option.kind === 'region' ? option.code : option.name;
}

function describeOption(option: AwsRegion | AwsLocalZone): string {
  return option.kind === 'region'
    ? `${option.code} (region, ${option.city})`
    : `${option.name} (Local Zone, ${option.city}, parent ${option.parentRegion})`;
}
