// One flow per node of the live cluster registry: the media and signalling of the classes it
// holds, at the place the node registered with. Zone or region are placed through the residency
// catalogue; a node with a country only (on-premises) is at the university's host in that country.
import type { ClusterRegistry } from '../sources/clusterRegistry.js';
import type { Flow, Location } from './types.js';
import { awsLocation } from './places.js';

/** Where a registered node is. */
function nodeLocation(node: ClusterRegistry['nodes'][number]): Location {
  const basis = `placement node ${node.id} registered with in the cluster registry`;
  const where = node.placement.zone ?? node.placement.region;
  if (where) return awsLocation(where, basis);
  return { country: node.placement.country, scope: 'host', place: `on-premises node ${node.id}`, basis };
}

/** A media flow per node. `source`: where the registry was read, for `seenIn`. */
export function clusterFlows(registry: ClusterRegistry, source: string): Array<Omit<Flow, 'id' | 'active' | 'operator'>> {
  return registry.nodes.map((node) => ({
    kind: 'media',
    label: `Media node ${node.id}${node.draining ? ' (draining)' : ''}`,
    location: nodeLocation(node),
    readers: 'participants of the rooms it holds; the node host (it decrypts to forward)',
    encryption: 'DTLS-SRTP browser to node, hop by hop',
    retention: 'not stored; forwarded live',
    personalData: true,
    seenIn: [`cluster registry ${source}`],
  }));
}
