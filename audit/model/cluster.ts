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
  return [...nodeFlows(registry, source), ...pipeFlows(registry, source), ...workerPipeFlows(registry, source)];
}

/**
 * A media flow per edge router fed from another router of the same host (a big room spread over an
 * edge node's workers): at that node's place, over loopback. The routers fed by a home node's pipe
 * are the pipe's flow already.
 */
function workerPipeFlows(registry: ClusterRegistry, source: string): Array<Omit<Flow, 'id' | 'active' | 'operator'>> {
  return (registry.edgeRouters ?? [])
    .filter((router) => router.via === 'worker-pipe')
    .map((router) => {
      const node = registry.nodes.find((n) => n.id === router.node);
      const location: Location = node ? nodeLocation(node) : { country: null, scope: 'unknown', place: `node ${router.node} (not in the registry)`, basis: `edge router reported by node ${registry.nodeId}` };
      return {
        kind: 'media' as const,
        label: `Worker pipe on node ${router.node}: ${router.tracks} track(s) of a class of ${router.home} to its media worker ${router.worker}`,
        location,
        readers: 'the edge node host (the same host as the pipe from the home node)',
        encryption: 'not encrypted: loopback inside the node host (127.0.0.1), never on a network',
        retention: 'not stored; forwarded live',
        personalData: true,
        seenIn: [`cluster registry ${source}`],
      };
    });
}

/** A media flow per pipe between nodes: at its far (edge) node, encrypted only if both ends say SRTP. */
function pipeFlows(registry: ClusterRegistry, source: string): Array<Omit<Flow, 'id' | 'active' | 'operator'>> {
  return (registry.pipes ?? []).map((pipe) => {
    const node = registry.nodes.find((n) => n.id === pipe.to);
    const location: Location = node
      ? nodeLocation(node)
      : { country: pipe.toCountry === 'ZZ' ? null : pipe.toCountry, scope: 'unknown', place: `node ${pipe.to} (not in the registry)`, basis: `pipe reported by node ${pipe.from}` };
    const srtp = pipe.srtp.home && pipe.srtp.edge;
    return {
      kind: 'media' as const,
      label: `Media pipe ${pipe.from} (${pipe.fromCountry}) -> ${pipe.to} (${pipe.toCountry}), ${pipe.tracks} track(s)`,
      location,
      readers: 'the edge node host (it decrypts to forward to its subscribers)',
      encryption: srtp ? `SRTP on both pipe ends${pipe.rtx.home && pipe.rtx.edge ? ', RTX on' : ''}` : 'NOT encrypted: a pipe end without SRTP',
      retention: 'not stored; forwarded live',
      personalData: true,
      seenIn: [`cluster registry ${source}`],
    };
  });
}

function nodeFlows(registry: ClusterRegistry, source: string): Array<Omit<Flow, 'id' | 'active' | 'operator'>> {
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
