// The cluster.edge section at start-up: what the schema cannot say (a private address to bind,
// a port range the right way round, a cluster secret that can be read and is long enough) is
// refused before anything listens, every problem naming its key.
import { ConfigError, type LecternConfig } from '../../config/index.js';
import type { PipeListen } from '../../sfu/index.js';
import { readClusterSecret } from './nodeSignature.js';

/** What the edge part of a node runs with. */
export interface EdgeSettings {
  /** The internal listener: the private address only. */
  listen: { host: string; port: number };
  /** Where pipe ends bind. */
  pipeListen: PipeListen;
  /** The cluster secret. */
  secret: string;
  /** Edge subscribers this node takes for other nodes' rooms. */
  capacitySubscribers: number;
}

/** The edge settings of this config, undefined without `cluster.edge`; throws ConfigError naming each problem. */
export function edgeSettings(config: LecternConfig): EdgeSettings | undefined {
  const cluster = config.cluster;
  const edge = cluster?.edge;
  if (!cluster || !edge) return undefined;
  const address = cluster.advertise.privateAddress;
  const problems: string[] = [];
  if (address === undefined) problems.push('cluster.advertise.privateAddress: required with cluster.edge (the pipes and the internal listener bind it, never the public address)');
  if (edge.pipePortMax < edge.pipePortMin) problems.push('cluster.edge.pipePortMax: below cluster.edge.pipePortMin');
  let secret = '';
  try {
    secret = readClusterSecret(edge.secretFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || address === undefined) throw new ConfigError('cluster', problems);
  return {
    listen: { host: address, port: edge.rpcPort },
    pipeListen: { ip: address, portMin: edge.pipePortMin, portMax: edge.pipePortMax },
    secret,
    capacitySubscribers: edge.capacitySubscribers,
  };
}
