// Where AWS keeps things, by country. Pure data, read by infra/ (to place and refuse) and audit/ (to
// check a stack's outputs). Placements are derived from these rows, never typed per stack.
// Sources: AWS partitions metadata (@aws-sdk/core), the AWS Local Zones and EBS user guides.

/** An AWS service whose data or metadata has a location we must account for. */
export type AwsService = 'ec2' | 'ebs' | 'vpc' | 's3' | 'kms' | 'logs' | 'ssm' | 'iam' | 'elasticache';

/** Where a service's data lives relative to a placement. */
export type ServiceScope = 'zone' | 'region' | 'global';

/** An AWS region: every regional service keeps its data here. */
export interface AwsRegion {
  readonly kind: 'region';
  readonly code: string;
  readonly city: string;
  readonly country: string;
  /** `aws` is the commercial partition; others need separate accounts and endpoints. */
  readonly partition: 'aws' | 'aws-eusc';
  /** Availability Zone suffixes we place hosts in, preferred first. */
  readonly zoneSuffixes: readonly string[];
}

/** A Local Zone: compute and block storage in the zone's city, everything else in the parent region. */
export interface AwsLocalZone {
  readonly kind: 'local-zone';
  readonly name: string;
  /** Opt-in group and network border group (the zone name without its trailing letter). */
  readonly group: string;
  readonly city: string;
  readonly country: string;
  readonly parentRegion: string;
  /** EBS volume types offered in the zone (gp3 is not offered in every zone). */
  readonly ebsVolumeTypes: readonly string[];
}

/** Services that exist inside a Local Zone; any other service used from it runs in the parent region. */
export const LOCAL_ZONE_SERVICES: readonly AwsService[] = ['ec2', 'ebs', 'vpc'];

/** Services with one worldwide control plane (outside every country we serve). */
export const GLOBAL_SERVICES: readonly AwsService[] = ['iam'];

const r = (code: string, city: string, country: string, zoneSuffixes = ['a', 'b', 'c']): AwsRegion => ({
  kind: 'region',
  code,
  city,
  country,
  partition: 'aws',
  zoneSuffixes,
});

/** Commercial-partition regions (GovCloud and China are separate partitions and accounts: not served). */
export const AWS_REGIONS: readonly AwsRegion[] = [
  r('eu-north-1', 'Stockholm', 'SE'),
  r('eu-central-1', 'Frankfurt', 'DE'),
  r('eu-central-2', 'Zurich', 'CH'),
  r('eu-west-1', 'Dublin', 'IE'),
  r('eu-west-2', 'London', 'GB'),
  r('eu-west-3', 'Paris', 'FR'),
  r('eu-south-1', 'Milan', 'IT'),
  r('eu-south-2', 'Aragon', 'ES'),
  // ca-central-1 has no "c" zone.
  r('ca-central-1', 'Montreal', 'CA', ['a', 'b', 'd']),
  r('ca-west-1', 'Calgary', 'CA'),
  r('il-central-1', 'Tel Aviv', 'IL'),
  r('me-central-1', 'UAE', 'AE'),
  r('me-south-1', 'Bahrain', 'BH'),
  r('me-west-1', 'Saudi Arabia', 'SA'),
  r('mx-central-1', 'Mexico', 'MX'),
  r('sa-east-1', 'Sao Paulo', 'BR'),
  r('sa-west-1', 'Santiago', 'CL'),
  r('af-south-1', 'Cape Town', 'ZA'),
  r('ap-east-1', 'Hong Kong', 'HK'),
  r('ap-east-2', 'Taipei', 'TW'),
  r('ap-northeast-1', 'Tokyo', 'JP'),
  r('ap-northeast-2', 'Seoul', 'KR'),
  r('ap-northeast-3', 'Osaka', 'JP'),
  r('ap-south-1', 'Mumbai', 'IN'),
  r('ap-south-2', 'Hyderabad', 'IN'),
  r('ap-southeast-1', 'Singapore', 'SG'),
  r('ap-southeast-2', 'Sydney', 'AU'),
  r('ap-southeast-3', 'Jakarta', 'ID'),
  r('ap-southeast-4', 'Melbourne', 'AU'),
  r('ap-southeast-5', 'Malaysia', 'MY'),
  r('ap-southeast-6', 'New Zealand', 'NZ'),
  r('ap-southeast-7', 'Thailand', 'TH'),
  r('us-east-1', 'N. Virginia', 'US'),
  r('us-east-2', 'Ohio', 'US'),
  r('us-west-1', 'N. California', 'US'),
  r('us-west-2', 'Oregon', 'US'),
  // The European Sovereign Cloud is a separate partition: listed so the audit can name it, but the
  // program does not place into it (different endpoints and accounts).
  { ...r('eusc-de-east-1', 'Brandenburg', 'DE'), partition: 'aws-eusc' },
];

const z = (name: string, city: string, country: string, parentRegion: string): AwsLocalZone => ({
  kind: 'local-zone',
  name,
  group: name.replace(/[a-z]$/, ''),
  city,
  country,
  parentRegion,
  // Local Zones document gp2 everywhere; gp3 only in some. gp2 keeps every zone working.
  ebsVolumeTypes: ['gp2'],
});

/** European Local Zones. Every one has a parent region in another country. */
export const AWS_LOCAL_ZONES: readonly AwsLocalZone[] = [
  z('eu-north-1-cph-1a', 'Copenhagen', 'DK', 'eu-north-1'),
  z('eu-north-1-hel-1a', 'Helsinki', 'FI', 'eu-north-1'),
  z('eu-central-1-waw-1a', 'Warsaw', 'PL', 'eu-central-1'),
  z('eu-central-1-ham-1a', 'Hamburg', 'DE', 'eu-central-1'),
  z('eu-central-1-ath-1a', 'Athens', 'GR', 'eu-central-1'),
  z('eu-central-1-ist-1a', 'Istanbul', 'TR', 'eu-central-1'),
];

/** The region with this code, if catalogued. */
export function findRegion(code: string): AwsRegion | undefined {
  return AWS_REGIONS.find((region) => region.code === code);
}

/** The Local Zone with this name, if catalogued. */
export function findLocalZone(name: string): AwsLocalZone | undefined {
  return AWS_LOCAL_ZONES.find((zone) => zone.name === name);
}

/**
 * Country of an Availability Zone, Local Zone, zone group or region name; undefined when unknown.
 * Used by the policy pack on whatever zone string a resource carries.
 */
export function countryOfLocation(location: string): string | undefined {
  const zone = AWS_LOCAL_ZONES.find((lz) => lz.name === location || lz.group === location);
  if (zone) return zone.country;
  const region = findRegion(location) ?? AWS_REGIONS.find((rg) => location.length === rg.code.length + 1 && location.startsWith(rg.code));
  return region?.country;
}
