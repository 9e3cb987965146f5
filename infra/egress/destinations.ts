// Every outbound destination a Lectern host may open a connection to, derived from the validated
// config and nothing else. Pure: the security groups (infra/firewall.ts), the on-host nftables
// policy (infra/egress/nftables.ts) and the audit's egress check all read this one list, so what the
// program allows, what the host enforces and what the audit reports cannot drift apart.
import { countryOfLocation } from '../../config/residency/index.js';
import type { LecternConfig } from '../../config/index.js';
import type { DeploymentConfig } from '../../config/deployment.js';

/** A host user whose new outbound connections the host policy restricts, or root (install, certbot, AWS CLI), or nginx's workers (www-data). */
export type EgressUser = 'lectern' | 'coturn' | 'root' | 'www-data';

/** Which host a list is for. */
export type HostKind = 'media' | 'turn';

/** One allowed destination. */
export interface EgressDestination {
  /** Stable id, e.g. `sign-in`, `aws-ssm`. */
  readonly id: string;
  /** Why the host needs it. */
  readonly purpose: string;
  /** A DNS name (resolved on the host into an nftables set) or an address range. */
  readonly target: { readonly kind: 'name'; readonly name: string } | { readonly kind: 'cidr'; readonly cidr: string };
  readonly protocol: 'tcp' | 'udp';
  readonly ports: readonly number[];
  /** Who may open it. The host policy lets `lectern` and `coturn` open nothing that does not list them. */
  readonly users: readonly EgressUser[];
  /** `install`: needed only while cloud-init installs the host (packages, the release). */
  readonly phase: 'always' | 'install';
  /** Country the destination is in, when the program can know it; null: not established. */
  readonly country: string | null;
  /** Who operates it. */
  readonly operator: string;
  /** Link-local AWS services (DNS, metadata, time) are not filtered by security groups. */
  readonly linkLocal?: boolean;
}

/** What the lists are derived from. */
export interface EgressInputs {
  /** The server config written to the media host (sign-in issuer, TURN URLs). */
  readonly serverConfig: LecternConfig;
  readonly deployment: DeploymentConfig;
  /** The AWS region every regional service call goes to (the provider region). */
  readonly region: string;
  /** The SFU's public address: the only peer a TURN relay may send to. */
  readonly sfuAddress: string;
  /** The in-region recordings bucket, when the placement keeps data in regional services. */
  readonly bucket?: string | undefined;
  /** Every media node's public address, when there are several (the TURN relay's peers). */
  readonly sfuAddresses?: readonly string[] | undefined;
  /** This host is one node of a cluster: its coordination store and its peers. */
  readonly cluster?: ClusterEgress | undefined;
}

/** What a cluster node connects to besides a single host's list. */
export interface ClusterEgress {
  /** The other nodes, at their private addresses. */
  readonly peers: ReadonlyArray<{ readonly id: string; readonly privateAddress: string }>;
  readonly internalPort: number;
  readonly pipePorts: { readonly portMin: number; readonly portMax: number };
  /** The managed Redis: its endpoint name and the private subnets it can have an address in; or Redis on a node (`onNode`), at that node's private address. */
  readonly redis: { readonly endpoint: string; readonly port: number; readonly subnetCidrs: readonly string[]; readonly onNode?: string | undefined };
  /** Country of the nodes (the placement's: a Local Zone's nodes are not in the provider region's country). */
  readonly country: string;
  /** Port 80 of the peers: a challenge for the shared site name answered by whichever node started the order. */
  readonly acmeRelayPort?: number | undefined;
}

// Amazon-provided DNS, instance metadata and time sync: link-local, per instance, in the instance's zone.
const AMAZON_DNS = '169.254.169.253/32';
const IMDS = '169.254.169.254/32';
const TIME_SYNC = '169.254.169.123/32';

/** Every destination the host may open, for one host kind. */
export function egressDestinations(host: HostKind, inputs: EgressInputs): EgressDestination[] {
  const { deployment, region, serverConfig } = inputs;
  const regionCountry = countryOfLocation(region) ?? null;
  const aws = (id: string, name: string, purpose: string, phase: 'always' | 'install' = 'always'): EgressDestination => ({
    id,
    purpose,
    target: { kind: 'name', name },
    protocol: 'tcp',
    ports: [443],
    users: ['root'],
    phase,
    country: regionCountry,
    operator: `AWS (${region})`,
  });
  const coturnHere = host === 'turn' || deployment.turn.mode === 'colocated';
  const out: EgressDestination[] = [
    // The lectern user resolves the sign-in provider's name; nothing else it may reach needs DNS.
    { id: 'dns', purpose: 'DNS through the VPC resolver', target: { kind: 'cidr', cidr: AMAZON_DNS }, protocol: 'udp', ports: [53], users: host === 'media' ? ['lectern', 'root'] : ['root'], phase: 'always', country: regionCountry, operator: `AWS (${region})`, linkLocal: true },
    { id: 'dns-tcp', purpose: 'DNS through the VPC resolver (TCP)', target: { kind: 'cidr', cidr: AMAZON_DNS }, protocol: 'tcp', ports: [53], users: host === 'media' ? ['lectern', 'root'] : ['root'], phase: 'always', country: regionCountry, operator: `AWS (${region})`, linkLocal: true },
    // Lectern reads its own region and zone from the metadata service (GET /admin/runtime).
    { id: 'instance-metadata', purpose: 'EC2 instance metadata (placement; the role credentials for the AWS CLI)', target: { kind: 'cidr', cidr: IMDS }, protocol: 'tcp', ports: [80], users: host === 'media' ? ['lectern', 'root'] : ['root'], phase: 'always', country: regionCountry, operator: `AWS (${region})`, linkLocal: true },
    { id: 'time', purpose: 'Amazon Time Sync', target: { kind: 'cidr', cidr: TIME_SYNC }, protocol: 'udp', ports: [123], users: ['root'], phase: 'always', country: regionCountry, operator: `AWS (${region})`, linkLocal: true },
    aws('aws-ssm', `ssm.${region}.amazonaws.com`, 'TURN credential from SSM Parameter Store (at boot)'),
    { id: 'acme', purpose: "TLS certificates from Let's Encrypt (issuance and renewal)", target: { kind: 'name', name: 'acme-v02.api.letsencrypt.org' }, protocol: 'tcp', ports: [443], users: ['root'], phase: 'always', country: 'US', operator: "Internet Security Research Group (Let's Encrypt)" },
    // Packages come from the Ubuntu archive mirror EC2 configures (in the region) and Canonical's snap store.
    { id: 'apt-mirror', purpose: 'Ubuntu packages (the EC2 regional mirror)', target: { kind: 'name', name: `${region}.ec2.archive.ubuntu.com` }, protocol: 'tcp', ports: [80, 443], users: ['root'], phase: 'install', country: regionCountry, operator: 'Canonical (mirror on AWS in the region)' },
    { id: 'apt-security', purpose: 'Ubuntu security updates', target: { kind: 'name', name: 'security.ubuntu.com' }, protocol: 'tcp', ports: [80, 443], users: ['root'], phase: 'install', country: null, operator: 'Canonical' },
    { id: 'snap-store', purpose: 'snap store (the AWS CLI, Node.js)', target: { kind: 'name', name: 'api.snapcraft.io' }, protocol: 'tcp', ports: [443], users: ['root'], phase: 'install', country: null, operator: 'Canonical' },
  ];
  if (host === 'media') {
    const oidc = serverConfig.auth.oidc;
    if (oidc) {
      const issuer = new URL(oidc.issuer);
      const port = Number(issuer.port || (issuer.protocol === 'https:' ? 443 : 80));
      out.push({ id: 'sign-in', purpose: "the university's sign-in provider (OpenID Connect discovery, keys, tokens)", target: targetOf(issuer.hostname), protocol: 'tcp', ports: [port], users: ['lectern'], phase: 'always', country: null, operator: `the operator of ${issuer.hostname}` });
    }
    const repo = new URL(deployment.release.repository);
    out.push(
      { id: 'release', purpose: `the pinned Lectern release (git ${repo.hostname})`, target: targetOf(repo.hostname), protocol: 'tcp', ports: [Number(repo.port || 443)], users: ['root'], phase: 'install', country: null, operator: `the operator of ${repo.hostname}` },
      { id: 'npm-registry', purpose: "the release's npm dependencies (npm ci)", target: { kind: 'name', name: 'registry.npmjs.org' }, protocol: 'tcp', ports: [443], users: ['root'], phase: 'install', country: 'US', operator: 'npm, Inc. (GitHub, Microsoft)' },
    );
    const recordingKey = serverConfig.recording.keyWrapping;
    if (recordingKey.kind === 'aws-kms') {
      // The server itself (user lectern) wraps each recording's data key with the in-region key.
      const host = recordingKey.endpoint ? new URL(recordingKey.endpoint).hostname : `kms.${recordingKey.region}.amazonaws.com`;
      out.push({ ...aws('aws-kms', host, "recordings' data keys wrapped by the in-region KMS key"), users: ['lectern'] });
    }
    if (inputs.bucket) {
      out.push(
        aws('aws-s3', `${inputs.bucket}.s3.${region}.amazonaws.com`, 'recordings upload to the in-region bucket'),
        aws('aws-logs', `logs.${region}.amazonaws.com`, 'logs to CloudWatch Logs in the region'),
        aws('cloudwatch-agent', `amazoncloudwatch-agent-${region}.s3.${region}.amazonaws.com`, 'the CloudWatch agent package (in-region bucket)', 'install'),
      );
    }
  }
  if (host === 'media' && inputs.cluster) out.push(...clusterDestinations(inputs.cluster, region));
  if (coturnHere) {
    // A relay sends to its allowed peers, the SFU hosts (coturn's allowed-peer-ip); relayed media only.
    const first = serverConfig.media.rtcPort;
    const last = first + serverConfig.media.workers - 1;
    const ports = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const sfus = inputs.sfuAddresses && inputs.sfuAddresses.length > 1 ? inputs.sfuAddresses : [inputs.sfuAddress];
    sfus.forEach((address, i) => {
      const one = sfus.length === 1;
      out.push({ id: one ? 'turn-to-sfu' : `turn-to-sfu-${i + 1}`, purpose: `relayed media from TURN allocations to the SFU${one ? '' : ` (media node ${i + 1})`}`, target: { kind: 'cidr', cidr: `${address}/32` }, protocol: 'udp', ports, users: ['coturn'], phase: 'always', country: regionCountry, operator: one ? 'this deployment (the SFU host)' : `this deployment (media node ${i + 1})` });
    });
  }
  return out;
}

/**
 * A cluster node reaches its coordination store (only the private subnets it lives in, its one
 * port) and each peer node at its private address (the pipe ports and the control port). Nothing wider.
 */
function clusterDestinations(cluster: ClusterEgress, region: string): EgressDestination[] {
  const { country } = cluster;
  const onNode = cluster.redis.onNode;
  const out: EgressDestination[] = cluster.redis.subnetCidrs.map((cidr, i) => ({
    id: onNode ? 'coordination-redis' : `coordination-redis-${i + 1}`,
    purpose: onNode
      ? `the cluster registry, room directory and locks on Redis on media node ${onNode}, ${cluster.redis.endpoint} (TLS with the deployment's CA, password)`
      : `the cluster registry, room directory and locks on the in-region Redis ${cluster.redis.endpoint} (TLS, AUTH token), private subnet ${i + 1}`,
    target: { kind: 'cidr' as const, cidr },
    protocol: 'tcp' as const,
    ports: [cluster.redis.port],
    users: ['lectern' as const],
    phase: 'always' as const,
    country,
    operator: onNode ? `this deployment (media node ${onNode})` : `AWS (${region}) ElastiCache`,
  }));
  const pipePorts = Array.from({ length: cluster.pipePorts.portMax - cluster.pipePorts.portMin + 1 }, (_, i) => cluster.pipePorts.portMin + i);
  for (const peer of cluster.peers) {
    const target = { kind: 'cidr' as const, cidr: `${peer.privateAddress}/32` };
    const operator = `this deployment (media node ${peer.id})`;
    out.push(
      { id: `peer-${peer.id}-pipes`, purpose: `SRTP pipes to media node ${peer.id} (private address)`, target, protocol: 'udp', ports: pipePorts, users: ['lectern'], phase: 'always', country, operator },
      { id: `peer-${peer.id}-control`, purpose: `node-to-node control with media node ${peer.id} (private address)`, target, protocol: 'tcp', ports: [cluster.internalPort], users: ['lectern'], phase: 'always', country, operator },
    );
    if (cluster.acmeRelayPort !== undefined) {
      out.push({ id: `peer-${peer.id}-acme`, purpose: `ACME HTTP-01 challenges for the shared site name, asked of media node ${peer.id} when not found here (nginx)`, target, protocol: 'tcp', ports: [cluster.acmeRelayPort], users: ['www-data'], phase: 'always', country, operator });
    }
  }
  return out;
}

function targetOf(host: string): EgressDestination['target'] {
  const bare = host.replace(/^\[|\]$/g, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bare)) return { kind: 'cidr', cidr: `${bare}/32` };
  if (bare.includes(':')) return { kind: 'cidr', cidr: `${bare}/128` };
  return { kind: 'name', name: bare };
}
