// The cluster.internal section at start-up (rooms bigger than a node): what the schema cannot say
// (a cluster secret that can be read and is long enough, a pipe port range the right way round) is
// refused before anything listens, every problem naming its key. The listener and the pipe ends
// bind `cluster.internal.host`, the private address; pipes use the `media.pipe` UDP ports.
import { ConfigError, type LecternConfig } from '../../config/index.js';
import { DEFAULT_PIPE_PORTS } from '../../config/cluster.js';
import type { PipeListen } from '../../sfu/index.js';
import { readClusterSecret } from './nodeSignature.js';

/** Edge subscribers a node takes for other nodes' rooms when cluster.internal.edgeSubscribers is absent. */
const DEFAULT_EDGE_SUBSCRIBERS = 500;

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

/** The edge settings of this config, undefined without `cluster.internal`; throws ConfigError naming each problem. */
export function edgeSettings(config: LecternConfig): EdgeSettings | undefined {
  const internal = config.cluster?.internal;
  if (!internal) return undefined;
  const pipe = config.media.pipe ?? DEFAULT_PIPE_PORTS;
  const problems: string[] = [];
  if (pipe.portMax < pipe.portMin) problems.push('media.pipe.portMax: below media.pipe.portMin');
  let secret = '';
  if (internal.secretFile === undefined) {
    // Default deny: a control channel anyone on the private network could drive is not opened.
    problems.push('cluster.internal.secretFile: required (the node-to-node requests are signed with the cluster secret)');
  } else {
    try {
      secret = readClusterSecret(internal.secretFile);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError('cluster', problems);
  return {
    listen: { host: internal.host, port: internal.port },
    pipeListen: { ip: internal.host, portMin: pipe.portMin, portMax: pipe.portMax },
    secret,
    capacitySubscribers: internal.edgeSubscribers ?? DEFAULT_EDGE_SUBSCRIBERS,
  };
}
