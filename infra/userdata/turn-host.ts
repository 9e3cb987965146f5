// User-data for a separate coturn host: coturn with a boot-time credential and its own certificate.
import {
  INSTALL_AWS_CLI,
  acmeService,
  coturnFiles,
  fetchSecretScript,
  renderCloudConfig,
  type CoturnSettings,
  type SecretSource,
} from './cloud-config.js';
import type { EgressDestination } from '../egress/destinations.js';
import { COTURN_USER, EGRESS_COMMANDS, egressFiles } from './egress.js';

/** Everything the TURN host's user-data needs, all values resolved. */
export interface TurnHostUserDataArgs {
  readonly coturn: CoturnSettings;
  readonly secret: SecretSource;
  readonly acmeEmail: string;
  /** Where this host may open connections (infra/egress/destinations.ts); everything else is refused. */
  readonly egress: readonly EgressDestination[];
}

/** Render the TURN host's `#cloud-config`. */
export function turnHostUserData(args: TurnHostUserDataArgs): string {
  const realm = args.coturn.realm;
  return renderCloudConfig({
    packages: ['coturn', 'certbot', 'nftables'],
    write_files: [
      fetchSecretScript(args.secret),
      ...coturnFiles(args.coturn),
      // No web server here: certbot answers HTTP-01 itself on port 80.
      ...acmeService('lectern-acme', `--standalone --email '${args.acmeEmail}' -d '${realm}'`, 'bash /etc/letsencrypt/renewal-hooks/deploy/coturn'),
      ...egressFiles(args.egress, { coturn: COTURN_USER }),
    ],
    runcmd: [
      // The coturn package created its user: load the policy before coturn is enabled.
      ...EGRESS_COMMANDS,
      INSTALL_AWS_CLI,
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', 'coturn'],
      ['systemctl', 'enable', '--now', '--no-block', 'lectern-acme.service'],
    ],
  });
}
