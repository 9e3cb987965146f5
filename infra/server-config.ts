// The config file the deployed server reads ($LECTERN_CONFIG), built from the stack's validated config
// plus what only the deployment knows (public address, TURN). Validated again by the one schema, so a
// host can never boot with a config the server would reject.
import { parseConfig, type LecternConfig } from '../config/index.js';
import type { DeploymentPlan } from './plan.js';

/** Values known once the addresses exist. */
export interface DeployedAddresses {
  /** The SFU host's Elastic IP, announced in ICE candidates. */
  readonly announcedAddress: string;
}

/**
 * The server config written to the host. It carries the TURN username but never the credential: the
 * host adds that at boot from SSM, so user-data (readable via the EC2 API) holds no secret.
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
      media: { ...config.media, listenIp: '0.0.0.0', announcedAddress: addresses.announcedAddress },
      ice: {
        ...config.ice,
        servers: [
          {
            urls: [
              `turn:${turnDomain}:${turn.port}?transport=udp`,
              `turn:${turnDomain}:${turn.port}?transport=tcp`,
              `turns:${turnDomain}:${turn.tlsPort}?transport=tcp`,
            ],
            username: turn.username,
          },
        ],
      },
    },
    'deployed server config',
  );
}
