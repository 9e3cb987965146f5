// User-data for the SFU + signalling host: installs the pinned Lectern release, writes its config
// (validated by the one schema), runs it under systemd behind nginx with a Let's Encrypt certificate.
import type { LecternConfig } from '../../config/index.js';
import type { DeploymentConfig } from '../../config/deployment.js';
import {
  INSTALL_AWS_CLI,
  acmeService,
  coturnFiles,
  fetchParameterScript,
  fetchSecretScript,
  renderCloudConfig,
  type CloudConfig,
  type CloudFile,
  type CoturnSettings,
  type SecretSource,
} from './cloud-config.js';
import { CLUSTER_SECRET_FILE, REDIS_AUTH_FILE, TURN_SECRET_FILE } from '../server-config.js';
import type { EgressDestination } from '../egress/destinations.js';
import { COTURN_USER, EGRESS_COMMANDS, EGRESS_UNIT, egressFiles } from './egress.js';
import { nginxHttp, nginxHttps } from './nginx.js';
import { REDIS_HOST_COMMANDS, REDIS_HOST_PATHS, redisHostFiles, type RedisHostArgs } from './redis-host.js';

/** Where recordings and logs go on this host. */
export type HostDataStore =
  | { kind: 'zone-volume'; volumeId: string; logRetentionDays: number; recordingsRetentionDays: number }
  | { kind: 'regional-services'; bucket: string; kmsKeyArn: string; logGroup: string; region: string; logRetentionDays: number };

/** Everything the media host's user-data needs, all values resolved. */
export interface MediaHostUserDataArgs {
  readonly deployment: DeploymentConfig;
  /** The server config file, without the TURN secret (it names the file the host writes). */
  readonly serverConfig: LecternConfig;
  readonly secret: SecretSource;
  readonly dataStore: HostDataStore;
  /** Present when coturn runs on this host. */
  readonly coturn?: CoturnSettings | undefined;
  /** Where this host may open connections (infra/egress/destinations.ts); everything else is refused. */
  readonly egress: readonly EgressDestination[];
  /** A cluster node: its own name (the redirect target, on its certificate too), the Redis AUTH token's and the control key's parameters. */
  readonly clusterNode?: ClusterNodeUserData | undefined;
}

/** What a cluster node's user-data adds to a single host's. */
export interface ClusterNodeUserData {
  readonly domain: string;
  readonly redisSecret: SecretSource;
  readonly clusterSecret: SecretSource;
  /** The other nodes' private addresses: challenges for the shared name not found here are asked of them (nginx.ts). */
  readonly peerAddresses: readonly string[];
  /** Redis on a node: the CA every node trusts (cluster.redis.caFile), and on the node that runs it, its part. */
  readonly hostRedis?: { readonly caCertPem: string; readonly server?: Omit<RedisHostArgs, 'passwordScript'> | undefined } | undefined;
}



const DATA_DIR = '/var/lib/lectern';
const NODE_CHANNEL = '20/stable';

/** Render the media host's `#cloud-config`. */
export function mediaHostUserData(args: MediaHostUserDataArgs): string {
  const { deployment } = args;
  const domain = deployment.domain;
  const names = args.clusterNode ? [domain, args.clusterNode.domain] : [domain];
  const release = deployment.release;
  const hostRedis = args.clusterNode?.hostRedis;
  const files: CloudFile[] = [
    { path: '/etc/lectern/config.base.json', permissions: '0644', content: `${JSON.stringify(args.serverConfig, null, 2)}\n` },
    fetchSecretScript(args.secret),
    ...(args.clusterNode
      ? [fetchParameterScript('/usr/local/sbin/lectern-redis-auth', args.clusterNode.redisSecret), fetchParameterScript('/usr/local/sbin/lectern-cluster-secret', args.clusterNode.clusterSecret)]
      : []),
    {
      // Puts coturn's secret on tmpfs for the server (ice.turn.secretFile) just before it starts.
      path: '/usr/local/sbin/lectern-render-config',
      permissions: '0700',
      content: [
        '#!/bin/bash',
        'set -euo pipefail',
        'install -d -m 0700 -o lectern -g lectern /run/lectern',
        'credential=$(/usr/local/sbin/lectern-turn-credential)',
        'umask 077',
        `printf '%s\\n' "$credential" > ${TURN_SECRET_FILE}`,
        ...(args.clusterNode ? [`/usr/local/sbin/lectern-redis-auth > ${REDIS_AUTH_FILE}`, `/usr/local/sbin/lectern-cluster-secret > ${CLUSTER_SECRET_FILE}`] : []),
        'cp /etc/lectern/config.base.json /run/lectern/config.json',
        `chown lectern:lectern /run/lectern/config.json ${TURN_SECRET_FILE}${args.clusterNode ? ` ${REDIS_AUTH_FILE} ${CLUSTER_SECRET_FILE}` : ''}`,
        '',
      ].join('\n'),
    },
    {
      path: '/usr/local/sbin/lectern-install',
      permissions: '0700',
      content: [
        '#!/bin/bash',
        'set -euo pipefail',
        `snap install node --channel=${NODE_CHANNEL} --classic`,
        'rm -rf /opt/lectern',
        `git clone --depth 1 --branch 'v${release.version}' '${release.repository}' /opt/lectern`,
        'cd /opt/lectern',
        '/snap/bin/npm ci',
        '/snap/bin/npm run build',
        'chown -R root:root /opt/lectern',
        '',
      ].join('\n'),
    },
    {
      path: '/etc/systemd/system/lectern.service',
      permissions: '0644',
      content: [
        '[Unit]',
        `Description=Lectern ${release.version}`,
        `After=network-online.target ${EGRESS_UNIT}`,
        'Wants=network-online.target',
        // Never run without the egress policy: if it fails to load, Lectern does not start.
        `Requires=${EGRESS_UNIT}`,
        '[Service]',
        'User=lectern',
        'Group=lectern',
        'Environment=NODE_ENV=production',
        'Environment=LECTERN_CONFIG=/run/lectern/config.json',
        'ExecStartPre=+/usr/local/sbin/lectern-render-config',
        'ExecStart=/snap/bin/node /opt/lectern/dist/server/main.js',
        'WorkingDirectory=/opt/lectern',
        `ReadWritePaths=${DATA_DIR}`,
        `StandardOutput=append:${DATA_DIR}/logs/lectern.log`,
        `StandardError=append:${DATA_DIR}/logs/lectern.log`,
        'Restart=always',
        'RestartSec=5',
        'NoNewPrivileges=true',
        'ProtectSystem=strict',
        'ProtectHome=true',
        'PrivateTmp=true',
        'LimitNOFILE=65536',
        // The prebuilt mediasoup worker sends through io_uring zero-copy when it may lock 6 MB of
        // send buffers, which the usual 8 MB per-user limit allows for the first worker only. For
        // ~1,200-byte RTP packets zero-copy costs more CPU than copying (bench/README.md, io_uring),
        // so no worker gets it: each then copies, the same on every core.
        'LimitMEMLOCK=1M',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
    },
    { path: '/etc/nginx/sites-available/lectern-http', permissions: '0644', content: nginxHttp({ names, webroot: '/var/www/acme', listen: '80', peers: (args.clusterNode?.peerAddresses ?? []).map((a) => `${a}:80`) }) },
    { path: '/etc/nginx/sites-available/lectern-https', permissions: '0644', content: nginxHttps(domain, args.serverConfig.http.port, names.join(' ')) },
    ...acmeService(
      'lectern-acme',
      `--webroot -w /var/www/acme --email '${deployment.acmeEmail}' ${names.map((n) => `-d '${n}'`).join(' ')}`,
      [
        'ln -sf /etc/nginx/sites-available/lectern-https /etc/nginx/sites-enabled/lectern-https',
        'systemctl reload nginx',
        args.coturn ? 'bash /etc/letsencrypt/renewal-hooks/deploy/coturn' : '',
      ].join('\n'),
    ),
    {
      path: '/etc/letsencrypt/renewal-hooks/deploy/nginx',
      permissions: '0755',
      content: '#!/bin/bash\nsystemctl reload nginx\n',
    },
    { path: '/etc/logrotate.d/lectern', permissions: '0644', content: logrotate(args.dataStore.logRetentionDays) },
    ...dataStoreFiles(args.dataStore),
    ...(hostRedis ? [{ path: REDIS_HOST_PATHS.ca, permissions: '0644', content: hostRedis.caCertPem }] : []),
    ...(hostRedis?.server ? redisHostFiles({ ...hostRedis.server, passwordScript: '/usr/local/sbin/lectern-redis-auth' }) : []),
    ...(args.coturn ? coturnFiles(args.coturn) : []),
    ...egressFiles(args.egress, { lectern: 'lectern', coturn: args.coturn ? COTURN_USER : undefined }),
  ];
  const doc: CloudConfig = {
    packages: ['nginx', 'certbot', 'git', 'jq', 'build-essential', 'python3', 'nftables', ...(args.coturn ? ['coturn'] : []), ...(hostRedis?.server ? ['redis-server'] : [])],
    write_files: files,
    runcmd: [
      // Mount the data volume first so the data directory below lands on it.
      ...mountCommands(args.dataStore),
      ['useradd', '--system', '--home-dir', DATA_DIR, '--shell', '/usr/sbin/nologin', 'lectern'],
      ['install', '-d', '-m', '0750', '-o', 'lectern', '-g', 'lectern', DATA_DIR, `${DATA_DIR}/logs`, `${DATA_DIR}/recordings`],
      ['install', '-d', '-m', '0755', '/var/www/acme'],
      // The policy names the lectern user (and coturn's), so it loads once they exist.
      ...EGRESS_COMMANDS,
      ['rm', '-f', '/etc/nginx/sites-enabled/default'],
      ['ln', '-sf', '/etc/nginx/sites-available/lectern-http', '/etc/nginx/sites-enabled/lectern-http'],
      ['systemctl', 'reload-or-restart', 'nginx'],
      INSTALL_AWS_CLI,
      ...regionalCommands(args.dataStore),
      // Redis before Lectern: the node registers as soon as it starts.
      ...(hostRedis?.server ? REDIS_HOST_COMMANDS : []),
      ['/usr/local/sbin/lectern-install'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'lectern.service'],
      ...(args.coturn ? [['systemctl', 'enable', 'coturn']] : []),
      // Runs (and retries) until DNS points here; then enables HTTPS and starts coturn with the certificate.
      ['systemctl', 'enable', '--now', '--no-block', 'lectern-acme.service'],
    ],
  };
  return renderCloudConfig(doc);
}

function logrotate(days: number): string {
  return [`${DATA_DIR}/logs/*.log /var/log/nginx/*.log {`, '  daily', `  maxage ${days}`, `  rotate ${days}`, '  compress', '  missingok', '  copytruncate', '}', ''].join('\n');
}

function dataStoreFiles(store: HostDataStore): CloudFile[] {
  if (store.kind === 'zone-volume') {
    return [
      // Recordings stay on the encrypted volume in the zone, never uploaded. Lectern's own sweeper
      // deletes them when their retention ends (recording.retentionDays <= recordingsRetentionDays),
      // destroying each data key and leaving a signed receipt; a blind `find -delete` here would
      // delete without a receipt, which the audit reports.
      {
        path: '/usr/local/sbin/lectern-mount-data',
        permissions: '0700',
        content: [
          '#!/bin/bash',
          'set -euo pipefail',
          // Nitro exposes EBS volumes as NVMe devices named after the volume id, not the attachment name.
          `device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${store.volumeId.replace('-', '')}`,
          'for _ in $(seq 1 60); do [ -e "$device" ] && break; sleep 5; done',
          'blkid "$device" || mkfs.ext4 -L lectern-data "$device"',
          `install -d ${DATA_DIR}`,
          `grep -q lectern-data /etc/fstab || echo "LABEL=lectern-data ${DATA_DIR} ext4 defaults,nofail 0 2" >> /etc/fstab`,
          `mountpoint -q ${DATA_DIR} || mount ${DATA_DIR}`,
          '',
        ].join('\n'),
      },
    ];
  }
  return [
    {
      // The encrypted recording store is copied to the in-region bucket (SSE-KMS with the stack's key)
      // every 15 minutes; --delete carries Lectern's deletions there too, so a recording shredded on
      // the host is gone from the bucket within the quarter hour (its lifecycle expiry is a backstop).
      // The key-encryption key never leaves the host.
      path: '/etc/cron.d/lectern-recordings-upload',
      permissions: '0644',
      content: `*/15 * * * * root /snap/bin/aws s3 sync --delete --region '${store.region}' --sse aws:kms --sse-kms-key-id '${store.kmsKeyArn}' ${DATA_DIR}/recordings/ 's3://${store.bucket}/recordings/' --exclude 'recording-kek.key' --exclude '*.tmp'\n`,
    },
    {
      path: '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json',
      permissions: '0644',
      content: `${JSON.stringify(
        {
          agent: { region: store.region },
          logs: {
            logs_collected: {
              files: {
                collect_list: [
                  { file_path: `${DATA_DIR}/logs/lectern.log`, log_group_name: store.logGroup, log_stream_name: '{instance_id}/lectern' },
                  { file_path: '/var/log/nginx/access.log', log_group_name: store.logGroup, log_stream_name: '{instance_id}/nginx' },
                ],
              },
            },
          },
        },
        null,
        2,
      )}\n`,
    },
  ];
}

function mountCommands(store: HostDataStore): string[][] {
  return store.kind === 'zone-volume' ? [['/usr/local/sbin/lectern-mount-data']] : [];
}

function regionalCommands(store: HostDataStore): string[][] {
  if (store.kind !== 'regional-services') return [];
  // The agent package comes from the in-region bucket AWS publishes it in.
  const url = `https://amazoncloudwatch-agent-${store.region}.s3.${store.region}.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb`;
  return [
    ['curl', '-fsSL', '-o', '/tmp/amazon-cloudwatch-agent.deb', url],
    ['dpkg', '-i', '/tmp/amazon-cloudwatch-agent.deb'],
    ['/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl', '-a', 'fetch-config', '-m', 'ec2', '-s', '-c', 'file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json'],
  ];
}
