// The one rule for a node's placement: in the deployment's country, proven, or refused. The
// registry applies it when a node registers and again when it reads entries back, so a node that
// wrote itself into the store by other means is still never given a room.
import { regionPlace, zonePlace } from '../../config/residency/index.js';
import type { NodePlacement } from '../../config/index.js';

/** Why a node with this placement may not join a deployment in `country`; undefined when it may. */
export function placementRefusal(placement: NodePlacement | undefined, country: string | undefined): string | undefined {
  if (!country) return 'the deployment has no country (config deployment.country): no node can be proven in-country';
  if (!placement) return 'the node has no placement';
  if (placement.country !== country) return `the node is placed in ${placement.country}, outside the deployment's country ${country}`;
  // Region and zone, when given, must be catalogued places in that country: a typo or an unknown
  // zone is not "probably fine".
  if (placement.region !== undefined) {
    const place = regionPlace(placement.region, 'node placement region');
    if (place.country !== country) return `region ${placement.region} is ${place.country ? `in ${place.country}` : 'not a catalogued region'}, not in ${country}`;
  }
  if (placement.zone !== undefined) {
    const place = zonePlace(placement.zone, 'node placement zone');
    if (place.country !== country) return `zone ${placement.zone} is ${place.country ? `in ${place.country}` : 'not a catalogued zone'}, not in ${country}`;
    if (placement.region !== undefined && !placement.zone.startsWith(placement.region)) {
      // A Local Zone is named after its parent region (eu-central-1-ham-1a): both forms start with it.
      return `zone ${placement.zone} is not in region ${placement.region}`;
    }
  }
  return undefined;
}
