// The config file the deployed server reads ($LECTERN_CONFIG), built from the stack's validated config
// plus what only the deployment knows (public address, TURN). Validated again by the one schema, so a
// host can never boot with a config the server would reject.
import { parseConfig, type LecternConfig } from '../config/index.js';
import type { ClusterPlan, DeploymentPlan, NodePlan } from './plan.js';
import { REDIS_HOST_PATHS } from './userdata/redis-host.js';

/** Values known once the addresses (and keys) exist. */
export interface DeployedAddresses {
  /** The SFU host's Elastic IP, announced in ICE candidates. */
  readonly announcedAddress: string;
  /** This host is a node of a cluster: which one, and where its coordination store is. */
  readonly clusterNode?: { readonly node: NodePlan; readonly redisEndpoint: string } | undefined;
  /** ARN of the KMS key the program made in the region for recordings; absent: the stack's own choice (local key file unless it names a key). */
  readonly recordingKeyArn?: string | undefined;
}

/** The file the host writes the Redis AUTH token into at boot (userdata/media-host.ts REDIS_AUTH_FILE). */
export const REDIS_AUTH_FILE = '/run/lectern/redis-auth';

/** The file the host writes the nodes' control-channel key into at boot (cluster.internal.secretFile). */
export const CLUSTER_SECRET_FILE = '/run/lectern/cluster-secret';

/** Where the host puts coturn's shared secret at boot (tmpfs), for the server to sign TURN credentials with. */
export const TURN_SECRET_FILE = '/run/lectern/turn-secret';

/** The encrypted recording store on the host's data directory (the Local Zone's encrypted volume, or the root volume synced to the bucket). */
export const RECORDINGS_DIR = '/var/lib/lectern/recordings';

/**
 * The server config written to the host. It names the file of the TURN secret but never holds it: the
 * host writes that file at boot from SSM, so user-data (readable via the EC2 API) holds no secret.
 */
export function deployedServerConfig(plan: DeploymentPlan, addresses: DeployedAddresses): LecternConfig {
  const { config, deployment, turnDomain } = plan;
  const turn = deployment.turn;
  const { deployment: _dropped, ...server } = config;
  return parseConfig(
    {
      ...server,
      http: {
        ...config.http,
        // nginx terminates TLS on the same host and proxies to loopback.
        host: '127.0.0.1',
        publicUrl: `https://${deployment.domain}`,
        trustProxy: true,
      },
      media: {
        ...config.media,
        listenIp: '0.0.0.0',
        announcedAddress: addresses.announcedAddress,
        ...(plan.cluster && addresses.clusterNode ? { pipe: plan.cluster.pipePorts } : {}),
      },
      // A cluster node proves its placement against the deployment's country at start-up (and the
      // registry refuses it otherwise), so it keeps the deployment section a single host drops.
      ...(plan.cluster && addresses.clusterNode ? { cluster: clusterSection(plan, plan.cluster, addresses.clusterNode), deployment } : {}),
      // Recordings live in the deployment's in-country store, kept no longer than its storage
      // retention (the server's sweeper deletes them with a receipt; the bucket's expiry is a backstop).
      recording: {
        ...config.recording,
        dir: RECORDINGS_DIR,
        retentionDays: Math.min(config.recording.retentionDays, deployment.storage.recordingsRetentionDays),
        // In a region, each data key is wrapped by the stack's single-Region recording key there
        // (the server checks it is in the country before it starts); in a Local Zone, KMS would be
        // the parent region's, abroad, so the local key file on the encrypted volume stays.
        keyWrapping:
          addresses.recordingKeyArn && config.recording.keyWrapping.kind !== 'aws-kms'
            ? { kind: 'aws-kms', keyArn: addresses.recordingKeyArn, region: plan.placement.providerRegion, country: deployment.country }
            : config.recording.keyWrapping,
      },
      ice: {
        ...config.ice,
        // Each participant gets a credential of its own that expires, signed with coturn's secret.
        turn: {
          urls: [
            `turn:${turnDomain}:${turn.port}?transport=udp`,
            `turn:${turnDomain}:${turn.port}?transport=tcp`,
            `turns:${turnDomain}:${turn.tlsPort}?transport=tcp`,
          ],
          secretFile: TURN_SECRET_FILE,
          ...(turn.credentialTtlSeconds !== undefined ? { credentialTtlSeconds: turn.credentialTtlSeconds } : {}),
        },
      },
    },
    'deployed server config',
  );
}

/**
 * A node's cluster section: its id, its placement derived exactly as the infra placed it (the
 * registry refuses it otherwise), TLS to Redis with the password from a file, and its private
 * address for the pipes and the control listener. Redis is the in-region ElastiCache (the system's
 * CAs vouch for it), or Redis on a node at its private address (the deployment's own CA does). A
 * Local Zone node names its zone only: the parent region is in another country.
 */
function clusterSection(plan: DeploymentPlan, cluster: ClusterPlan, at: { node: NodePlan; redisEndpoint: string }): Record<string, unknown> {
  const { node } = at;
  const onHost = cluster.coordination.kind === 'host';
  const region = plan.placement.kind === 'local-zone' ? {} : { region: plan.placement.providerRegion };
  return {
    nodeId: node.id,
    redis: { url: `rediss://${at.redisEndpoint}:${cluster.redisPort}`, tls: true, passwordFile: REDIS_AUTH_FILE, ...(onHost ? { caFile: REDIS_HOST_PATHS.ca } : {}) },
    advertise: { signallingUrl: `https://${node.domain}`, privateAddress: node.privateAddress },
    placement: { country: plan.placement.country, ...region, zone: node.zone },
    internal: { host: node.privateAddress, port: cluster.internalPort, secretFile: CLUSTER_SECRET_FILE },
  };
}
