// The egress policy on a host: the generated nftables ruleset, the resolver that fills its name sets,
// and the units that load it before Lectern or coturn can start (and keep the names fresh).
import type { EgressDestination } from '../egress/destinations.js';
import { COTURN_USER, nftablesRuleset, resolverScript, type RestrictedUsers } from '../egress/nftables.js';
import type { CloudFile } from './cloud-config.js';

/** The unit Lectern and coturn require: they never run without the policy loaded. */
export const EGRESS_UNIT = 'lectern-egress.service';

/** Files that install the egress policy for `destinations`. */
export function egressFiles(destinations: readonly EgressDestination[], users: RestrictedUsers): CloudFile[] {
  const ruleset = nftablesRuleset(destinations, users);
  return [
    { path: '/etc/lectern/egress.nft', permissions: '0644', content: ruleset.text },
    { path: '/usr/local/sbin/lectern-egress-resolve', permissions: '0700', content: resolverScript(ruleset) },
    {
      path: `/etc/systemd/system/${EGRESS_UNIT}`,
      permissions: '0644',
      content: [
        '[Unit]',
        'Description=Lectern egress policy (nftables): lectern and coturn reach only the listed destinations',
        'DefaultDependencies=no',
        'Before=network-pre.target lectern.service coturn.service',
        'Wants=network-pre.target',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=/usr/sbin/nft -f /etc/lectern/egress.nft',
        // Name sets start empty (deny); the timer fills them once DNS is up.
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    },
    {
      path: '/etc/systemd/system/lectern-egress-resolve.service',
      permissions: '0644',
      content: ['[Unit]', 'Description=Resolve the egress policy\'s named destinations', `Requires=${EGRESS_UNIT}`, `After=${EGRESS_UNIT} network-online.target`, '[Service]', 'Type=oneshot', 'ExecStart=/usr/local/sbin/lectern-egress-resolve', ''].join('\n'),
    },
    {
      path: '/etc/systemd/system/lectern-egress-resolve.timer',
      permissions: '0644',
      content: ['[Unit]', 'Description=Keep the egress policy\'s name sets fresh', '[Timer]', 'OnBootSec=30s', 'OnUnitActiveSec=5min', '[Install]', 'WantedBy=timers.target', ''].join('\n'),
    },
  ];
}

/** Commands that turn the policy on (after the restricted users exist). */
export const EGRESS_COMMANDS: string[][] = [
  ['systemctl', 'daemon-reload'],
  ['systemctl', 'enable', '--now', EGRESS_UNIT],
  ['systemctl', 'enable', '--now', 'lectern-egress-resolve.timer'],
  ['systemctl', 'start', 'lectern-egress-resolve.service'],
];

export { COTURN_USER };
