// Layer one of the residency guarantee: the program refuses to build anything from a stack whose
// config would place hosts or data outside the country. Pure: tests call it without a Pulumi runtime.
import { ConfigError } from '../config/index.js';
import { decidePlacement, findRegion, recordingKeyProblems, regionPlace, zonePlace, ResidencyError, type Placement } from '../config/residency/index.js';
import { DEFAULT_INTERNAL_PORT, DEFAULT_PIPE_PORTS } from '../config/cluster.js';
import { readStackConfig, type StackConfig } from './stack-config.js';

/** One media node of a cluster, placed before anything is created. */
export interface NodePlan {
  /** cluster.nodeId, and the suffix of its resources' names (`lectern-media-1`). */
  readonly id: string;
  readonly zone: string;
  /** Index of its zone in ClusterPlan.zones (its public and private subnet). */
  readonly zoneIndex: number;
  /** Fixed private address in its zone's subnet: the peers' pipes and egress lists name it before it exists. */
  readonly privateAddress: string;
  /** Where browsers reach this node's signalling (the redirect target): its own name under the domain. */
  readonly domain: string;
}

/** Several media nodes and their coordination store, all in-country (deployment.sfu.count > 1). */
export interface ClusterPlan {
  readonly nodes: readonly NodePlan[];
  /** Zones the nodes use, in order; zones[0] is the placement's zone. */
  readonly zones: readonly string[];
  /** Where the coordination store runs: the managed Redis of the region, or Redis on one node in the zone. */
  readonly coordination: CoordinationPlan;
  /** Region of the managed Redis (the provider region, proven in-country); absent when Redis runs on a node. */
  readonly redisRegion?: string | undefined;
  readonly redisPort: number;
  /** Node-to-node control listener port (cluster.internal.port). */
  readonly internalPort: number;
  /** UDP ports of the pipes between nodes (media.pipe). */
  readonly pipePorts: { readonly portMin: number; readonly portMax: number };
}

/**
 * The coordination store. `managed`: ElastiCache in the provider region, proven in-country. `host`:
 * the placement has no in-country managed Redis (a Local Zone, whose ElastiCache would be the parent
 * region's, abroad), so Redis runs on one node, on its private address, in the zone.
 */
export type CoordinationPlan =
  | { readonly kind: 'managed'; readonly region: string }
  | { readonly kind: 'host'; readonly nodeId: string; readonly zone: string; readonly privateAddress: string };

/** The VPC the program builds; subnets are /24s in it (see infra/components/Network.ts). */
export const VPC_CIDR = '10.42.0.0/16';
/** Public subnet of zone i: 10.42.(1+i).0/24; the private one (Redis only): 10.42.(101+i).0/24. */
export const publicSubnetCidr = (zoneIndex: number): string => `10.42.${1 + zoneIndex}.0/24`;
export const privateSubnetCidr = (zoneIndex: number): string => `10.42.${101 + zoneIndex}.0/24`;
const REDIS_PORT = 6379;

/** A stack that may be built: validated config and an in-country placement. */
export interface DeploymentPlan extends StackConfig {
  readonly placement: Placement;
  /** Hostname coturn's certificate is issued for. */
  readonly turnDomain: string;
  /** Present when the deployment runs more than one media node. */
  readonly cluster?: ClusterPlan | undefined;
}

/** CloudWatch Logs accepts only these retention values (days). */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Validate the stack config and decide the placement; throws ConfigError or ResidencyError. */
export function planDeployment(all: Readonly<Record<string, string>>): DeploymentPlan {
  requireNoDefaultProviders(all);
  const stack = readStackConfig(all);
  const { deployment } = stack;
  const placement = decidePlacement(deployment);
  if (placement.dataStore === 'regional-services' && !CLOUDWATCH_RETENTION_DAYS.includes(deployment.storage.logRetentionDays)) {
    throw new ConfigError('stack config', [
      `lectern:deployment.storage.logRetentionDays: CloudWatch accepts only ${CLOUDWATCH_RETENTION_DAYS.join(', ')}`,
    ]);
  }
  // A recording key the stack names must be in the country, single-Region (as the server checks at start-up).
  const key = stack.config.recording.keyWrapping;
  if (key.kind === 'aws-kms') {
    const problems = recordingKeyProblems(key, deployment.country).map((p) => `lectern:${p}`);
    if (problems.length > 0) throw new ConfigError('stack config', problems);
  }
  const turnDomain = deployment.turn.domain ?? (deployment.turn.mode === 'colocated' ? deployment.domain : `turn.${deployment.domain}`);
  if (deployment.sfu.count === 1 && deployment.sfu.zones !== undefined) {
    throw new ConfigError('stack config', ['lectern:deployment.sfu.zones: only for several nodes (sfu.count > 1); one host goes to deployment.availabilityZone']);
  }
  const cluster = deployment.sfu.count > 1 ? planCluster(stack, placement) : undefined;
  return { ...stack, placement, turnDomain, ...(cluster ? { cluster } : {}) };
}

/**
 * Place every node and the coordination store before anything exists, by the same default deny as
 * the rest of the placement: a zone or region that is not proven in the country is refused.
 */
function planCluster(stack: StackConfig, placement: Placement): ClusterPlan {
  const { deployment, config } = stack;
  const problems: string[] = [];
  const wrong: string[] = [];
  const country = placement.country;
  const zones = deployment.sfu.zones ?? defaultZones(placement, deployment.sfu.count);
  for (const zone of zones) {
    const place = zonePlace(zone, `deployment.sfu.zones ${zone}`);
    if (place.country !== country) problems.push(`deployment.sfu.zones: ${zone} is ${place.country ? `in ${place.country}` : 'not a catalogued zone'}, outside ${country}; a node there is refused`);
    else if (!placementZones(placement).includes(zone)) problems.push(`deployment.sfu.zones: ${zone} is not a zone of the placement ${placement.name} (${placementZones(placement).join(', ')})`);
  }
  // The managed Redis lives in the provider region. In a Local Zone that region is the parent, in
  // another country: there Redis runs on the first node instead (below), never in the parent region.
  const redisPlace = regionPlace(placement.providerRegion, 'the coordination store region');
  const onHost = redisPlace.country !== country;
  if (onHost && placement.kind !== 'local-zone') {
    problems.push(`deployment.sfu.count ${deployment.sfu.count}: the managed Redis would be in ${placement.providerRegion} (${redisPlace.country ?? 'not established'}), outside ${country}; a cluster is refused here`);
  }
  const pipePorts = config.media.pipe ?? DEFAULT_PIPE_PORTS;
  if (pipePorts.portMin > pipePorts.portMax) wrong.push('lectern:media.pipe.portMin: must not exceed portMax');
  const mediaFirst = config.media.rtcPort;
  const mediaLast = mediaFirst + Math.max(config.media.workers, 1) - 1;
  if (pipePorts.portMin <= mediaLast && pipePorts.portMax >= mediaFirst) wrong.push(`lectern:media.pipe: ${pipePorts.portMin}-${pipePorts.portMax} overlaps the media ports ${mediaFirst}-${mediaLast}`);
  const turn = deployment.turn;
  if (turn.mode === 'colocated') wrong.push('lectern:deployment.turn.mode: a cluster needs a separate TURN host (coturn on one node could relay to that node only)');
  if (problems.length > 0) throw new ResidencyError(problems);
  if (wrong.length > 0) throw new ConfigError('stack config', wrong);
  const nodes = Array.from({ length: deployment.sfu.count }, (_, i): NodePlan => {
    const zoneIndex = i % zones.length;
    const n = i + 1;
    return { id: `media-${n}`, zone: zones[zoneIndex]!, zoneIndex, privateAddress: `10.42.${1 + zoneIndex}.${10 + Math.floor(i / zones.length)}`, domain: `media-${n}.${deployment.domain}` };
  });
  // Redis on a node: the first, whose zone is the placement's and whose private address every peer
  // already names; it is as much a member as the others (its media and pipes are unchanged).
  const first = nodes[0]!;
  const coordination: CoordinationPlan = onHost ? { kind: 'host', nodeId: first.id, zone: first.zone, privateAddress: first.privateAddress } : { kind: 'managed', region: placement.providerRegion };
  return {
    nodes,
    zones: zones.slice(0, Math.min(zones.length, nodes.length)),
    coordination,
    ...(coordination.kind === 'managed' ? { redisRegion: coordination.region } : {}),
    redisPort: REDIS_PORT,
    internalPort: DEFAULT_INTERNAL_PORT,
    pipePorts,
  };
}

/** The zones a placement offers: a region's Availability Zones, or the one Local Zone. */
function placementZones(placement: Placement): string[] {
  if (placement.kind === 'local-zone') return [placement.availabilityZone];
  const region = findRegion(placement.providerRegion)!;
  return region.zoneSuffixes.map((suffix) => `${region.code}${suffix}`);
}

/** The placement's zone first, then the region's other zones; a Local Zone is one zone. */
function defaultZones(placement: Placement, count: number): string[] {
  const all = placementZones(placement);
  const ordered = [placement.availabilityZone, ...all.filter((z) => z !== placement.availabilityZone)];
  return ordered.slice(0, Math.max(1, Math.min(count, ordered.length)));
}

/**
 * A resource created without our provider would go to whatever region the operator's shell points at.
 * Pulumi only prevents that when the stack disables default providers, so insist on it.
 */
function requireNoDefaultProviders(all: Readonly<Record<string, string>>): void {
  const text = all['pulumi:disable-default-providers'];
  let list: unknown = [];
  try {
    list = text === undefined ? [] : JSON.parse(text);
  } catch {
    list = [text];
  }
  if (!Array.isArray(list) || !(list.includes('*') || list.includes('aws'))) {
    throw new ConfigError('stack config', [
      'pulumi:disable-default-providers: must include "aws" or "*" so nothing can use an unpinned AWS provider',
    ]);
  }
}
