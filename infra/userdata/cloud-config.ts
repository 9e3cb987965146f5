// A typed cloud-config document and the pieces both hosts share. Rendered as JSON, which cloud-init's
// YAML parser reads as-is: no hand-built YAML, so no quoting bugs in embedded scripts.

/** One file cloud-init writes. */
export interface CloudFile {
  path: string;
  content: string;
  permissions: string;
  owner?: string;
}

/** The subset of cloud-config we use. */
export interface CloudConfig {
  packages: string[];
  write_files: CloudFile[];
  runcmd: string[][];
}

/** `#cloud-config` user-data text. */
export function renderCloudConfig(doc: CloudConfig): string {
  return `#cloud-config\n${JSON.stringify({ package_update: true, ...doc }, null, 2)}\n`;
}

/** Where a host fetches the TURN credential at boot. */
export interface SecretSource {
  /** SSM SecureString name. */
  readonly parameterName: string;
  /** Region the parameter lives in: the provider's region. */
  readonly region: string;
}

/**
 * The secret is fetched at boot, not embedded: user-data is readable by anyone with
 * ec2:DescribeInstanceAttribute and is stored unencrypted by EC2, while an SSM SecureString is
 * KMS-encrypted and readable only by the host's role (and written to tmpfs under /run).
 */
export function fetchSecretScript(source: SecretSource): CloudFile {
  return {
    path: '/usr/local/sbin/lectern-turn-credential',
    permissions: '0700',
    content: [
      '#!/bin/bash',
      'set -euo pipefail',
      `exec /snap/bin/aws ssm get-parameter --region '${source.region}' --name '${source.parameterName}' --with-decryption --query Parameter.Value --output text`,
      '',
    ].join('\n'),
  };
}

/** A script that prints one SSM SecureString (another secret than the TURN credential). */
export function fetchParameterScript(path: string, source: SecretSource): CloudFile {
  return { ...fetchSecretScript(source), path };
}

/** coturn's config with the secret placeholder the boot script fills in. */
export interface CoturnSettings {
  readonly realm: string;
  readonly port: number;
  readonly tlsPort: number;
  readonly relayPortMin: number;
  readonly relayPortMax: number;
  /** The only peer addresses relays may reach: the SFU hosts' Elastic IPs. */
  readonly allowedPeers: readonly string[];
  /** This host's public address (its Elastic IP), advertised as the relay address. */
  readonly publicAddress: string;
}

/** Files and commands that run coturn with a boot-time credential and a Let's Encrypt certificate. */
export function coturnFiles(settings: CoturnSettings): CloudFile[] {
  const template = [
    `listening-port=${settings.port}`,
    `tls-listening-port=${settings.tlsPort}`,
    `min-port=${settings.relayPortMin}`,
    `max-port=${settings.relayPortMax}`,
    // __PRIVATE_IP__ is filled at boot from IMDSv2; EC2 NATs the Elastic IP to it.
    `external-ip=${settings.publicAddress}/__PRIVATE_IP__`,
    `realm=${settings.realm}`,
    'fingerprint',
    // TURN REST API credentials: Lectern signs `<expiry>:<peer>` with this secret per participant;
    // coturn refuses one whose expiry has passed. No long-lived TURN password exists.
    'use-auth-secret',
    'static-auth-secret=__CREDENTIAL__',
    'cert=/etc/coturn/tls/fullchain.pem',
    'pkey=/etc/coturn/tls/privkey.pem',
    'no-cli',
    'no-multicast-peers',
    // Not an open relay: the only peer a relay may talk to is the SFU.
    'denied-peer-ip=0.0.0.0-255.255.255.255',
    ...settings.allowedPeers.map((peer) => `allowed-peer-ip=${peer}`),
    'log-file=syslog',
    '',
  ].join('\n');
  return [
    { path: '/etc/lectern/turnserver.conf.template', permissions: '0600', content: template },
    {
      path: '/usr/local/sbin/lectern-render-coturn',
      permissions: '0700',
      content: [
        '#!/bin/bash',
        'set -euo pipefail',
        'token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")',
        'private_ip=$(curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/local-ipv4)',
        'credential=$(/usr/local/sbin/lectern-turn-credential)',
        'umask 077',
        'sed -e "s|__PRIVATE_IP__|$private_ip|" -e "s|__CREDENTIAL__|$credential|" /etc/lectern/turnserver.conf.template > /etc/turnserver.conf',
        'chown root:turnserver /etc/turnserver.conf && chmod 0640 /etc/turnserver.conf',
        '',
      ].join('\n'),
    },
    {
      // Certbot renews; this hook hands coturn a copy it can read and restarts it.
      path: '/etc/letsencrypt/renewal-hooks/deploy/coturn',
      permissions: '0755',
      content: [
        '#!/bin/bash',
        'set -euo pipefail',
        'install -d -m 0750 -o root -g turnserver /etc/coturn/tls',
        `install -m 0640 -o root -g turnserver /etc/letsencrypt/live/${settings.realm}/fullchain.pem /etc/coturn/tls/fullchain.pem`,
        `install -m 0640 -o root -g turnserver /etc/letsencrypt/live/${settings.realm}/privkey.pem /etc/coturn/tls/privkey.pem`,
        'systemctl restart coturn',
        '',
      ].join('\n'),
    },
    {
      path: '/etc/systemd/system/coturn.service.d/lectern.conf',
      permissions: '0644',
      // coturn never runs without the egress policy (infra/userdata/egress.ts) loaded.
      content: ['[Unit]', 'Requires=lectern-egress.service', 'After=lectern-egress.service', '[Service]', 'ExecStartPre=+/usr/local/sbin/lectern-render-coturn', ''].join('\n'),
    },
  ];
}

/** Installs the AWS CLI (for SSM) from the Ubuntu snap store; apt has no v2 package. */
export const INSTALL_AWS_CLI: string[] = ['snap', 'install', 'aws-cli', '--classic'];

/** A certbot loop that retries until the university's DNS points at us. */
export function acmeService(name: string, certbotArgs: string, afterCertificate: string): CloudFile[] {
  return [
    {
      path: `/usr/local/sbin/${name}`,
      permissions: '0700',
      content: ['#!/bin/bash', 'set -euo pipefail', `certbot certonly --non-interactive --agree-tos ${certbotArgs}`, afterCertificate, ''].join('\n'),
    },
    {
      // Restart until it succeeds: the DNS A record is created by the university after `pulumi up`.
      path: `/etc/systemd/system/${name}.service`,
      permissions: '0644',
      content: [
        '[Unit]',
        "Description=Obtain the Let's Encrypt certificate (HTTP-01)",
        'After=network-online.target',
        'Wants=network-online.target',
        '[Service]',
        'Type=oneshot',
        `ExecStart=/usr/local/sbin/${name}`,
        'Restart=on-failure',
        'RestartSec=120',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    },
  ];
}
