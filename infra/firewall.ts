// The only ports a Lectern deployment opens, derived from the validated config. Pure, so the tests can
// compare the security groups in the graph against exactly this list.
import type { LecternConfig } from '../config/index.js';
import type { DeploymentConfig } from '../config/deployment.js';
import type { EgressDestination } from './egress/destinations.js';

/** Who may reach a port: everyone, the SFU's own Elastic IP(s), one admin CIDR, or the cluster's nodes' security group. */
export type RuleSource = { kind: 'anywhere' } | { kind: 'sfu' } | { kind: 'cidr'; cidr: string } | { kind: 'nodes' };

/** One inbound rule. */
export interface IngressRule {
  readonly protocol: 'tcp' | 'udp';
  readonly fromPort: number;
  readonly toPort: number;
  readonly source: RuleSource;
  readonly description: string;
}

const ANYWHERE: RuleSource = { kind: 'anywhere' };

/** Inbound rules for the SFU/signalling host (including coturn when colocated). */
export function mediaHostRules(config: LecternConfig, deployment: DeploymentConfig): IngressRule[] {
  const first = config.media.rtcPort;
  const last = first + config.media.workers - 1;
  const rules: IngressRule[] = [
    // HTTP-01 needs port 80; nginx answers the challenge there and redirects everything else to HTTPS.
    { protocol: 'tcp', fromPort: 80, toPort: 80, source: ANYWHERE, description: 'ACME HTTP-01 and redirect to HTTPS' },
    { protocol: 'tcp', fromPort: 443, toPort: 443, source: ANYWHERE, description: 'HTTPS and WebSocket signalling' },
    { protocol: 'udp', fromPort: first, toPort: last, source: ANYWHERE, description: 'WebRTC media (one port per worker)' },
    { protocol: 'tcp', fromPort: first, toPort: last, source: ANYWHERE, description: 'WebRTC media over TCP (one port per worker)' },
  ];
  if (deployment.turn.mode === 'colocated') rules.push(...turnRules(deployment, false));
  rules.push(...sshRules(deployment));
  return rules;
}

/** Inbound rules for a separate TURN host. */
export function turnHostRules(deployment: DeploymentConfig): IngressRule[] {
  return [...turnRules(deployment, true), ...sshRules(deployment)];
}

function turnRules(deployment: DeploymentConfig, ownHost: boolean): IngressRule[] {
  const turn = deployment.turn;
  const rules: IngressRule[] = [];
  // A separate host answers its own HTTP-01 challenge for the TURN hostname's certificate.
  if (ownHost) rules.push({ protocol: 'tcp', fromPort: 80, toPort: 80, source: ANYWHERE, description: 'ACME HTTP-01 for the TURN certificate' });
  rules.push(
    { protocol: 'udp', fromPort: turn.port, toPort: turn.port, source: ANYWHERE, description: 'TURN over UDP' },
    { protocol: 'tcp', fromPort: turn.port, toPort: turn.port, source: ANYWHERE, description: 'TURN over TCP' },
    { protocol: 'tcp', fromPort: turn.tlsPort, toPort: turn.tlsPort, source: ANYWHERE, description: 'TURN over TLS' },
    // Relayed media flows between the relay ports and the SFU only; coturn also denies every other peer.
    { protocol: 'udp', fromPort: turn.relayPortMin, toPort: turn.relayPortMax, source: { kind: 'sfu' }, description: 'TURN relay ports, from the SFU only' },
  );
  return rules;
}

/**
 * Inbound rules of the cluster nodes' shared security group, from members of the same group only:
 * the pipes between nodes (UDP, SRTP), the internal control port, port 80 for the ACME challenges a
 * node relays to its peers (userdata/nginx.ts), and Redis when it runs on a node.
 */
export function clusterNodeRules(cluster: { internalPort: number; pipePorts: { portMin: number; portMax: number }; redisPort: number; coordination: { kind: 'managed' } | { kind: 'host'; nodeId: string } }): IngressRule[] {
  const nodes: RuleSource = { kind: 'nodes' };
  return [
    { protocol: 'udp', fromPort: cluster.pipePorts.portMin, toPort: cluster.pipePorts.portMax, source: nodes, description: 'SRTP pipes between media nodes' },
    { protocol: 'tcp', fromPort: cluster.internalPort, toPort: cluster.internalPort, source: nodes, description: 'node-to-node control (pipe set-up)' },
    { protocol: 'tcp', fromPort: 80, toPort: 80, source: nodes, description: 'ACME challenges for the shared site name relayed between nodes' },
    ...(cluster.coordination.kind === 'host'
      ? [{ protocol: 'tcp' as const, fromPort: cluster.redisPort, toPort: cluster.redisPort, source: nodes, description: `Redis (TLS) on ${cluster.coordination.nodeId}, from the nodes only` }]
      : []),
  ];
}

function sshRules(deployment: DeploymentConfig): IngressRule[] {
  return deployment.adminSshCidrs.map((cidr) => ({
    protocol: 'tcp' as const,
    fromPort: 22,
    toPort: 22,
    source: { kind: 'cidr' as const, cidr },
    description: 'SSH from an admin network',
  }));
}

/** One outbound rule, and the destinations it exists for. */
export interface EgressRule {
  readonly protocol: 'tcp' | 'udp';
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidr: string;
  readonly description: string;
  /** Ids of the destinations (infra/egress/destinations.ts) this rule carries. */
  readonly destinations: readonly string[];
  /**
   * Set when the rule is wider than its destinations: a security group takes addresses, and a
   * destination known only by name (Let's Encrypt, the sign-in provider, package mirrors) has no
   * stable address list. The host's nftables policy narrows these to the users and names listed;
   * the audit reports every such rule.
   */
  readonly widerBecause?: string;
}

/**
 * Outbound rules for a host: exactly the address destinations, plus one rule per protocol and port
 * for the named ones. Nothing else: no all-protocols rule, no all-ports rule. Link-local AWS services
 * (DNS, metadata, time) need none; security groups do not filter them.
 */
export function egressRules(destinations: readonly EgressDestination[]): EgressRule[] {
  const rules: EgressRule[] = [];
  const named = new Map<string, { protocol: 'tcp' | 'udp'; port: number; ids: string[]; names: string[] }>();
  for (const d of destinations) {
    if (d.linkLocal) continue;
    for (const [from, to] of portRanges(d.ports)) {
      if (d.target.kind === 'cidr') {
        rules.push({ protocol: d.protocol, fromPort: from, toPort: to, cidr: d.target.cidr, description: `${d.id}: ${d.purpose}`.slice(0, 255), destinations: [d.id] });
        continue;
      }
      for (let port = from; port <= to; port++) {
        const key = `${d.protocol}/${port}`;
        const entry = named.get(key) ?? { protocol: d.protocol, port, ids: [], names: [] };
        entry.ids.push(d.id);
        entry.names.push(d.target.name);
        named.set(key, entry);
      }
    }
  }
  for (const { protocol, port, ids, names } of named.values()) {
    rules.push({
      protocol,
      fromPort: port,
      toPort: port,
      cidr: '0.0.0.0/0',
      description: `${protocol}/${port} to named destinations (${ids.join(', ')}); narrowed on the host by nftables`.slice(0, 255),
      destinations: ids,
      widerBecause: `${names.join(', ')} ${names.length === 1 ? 'has' : 'have'} no fixed address list; the host policy lets only root reach them${ids.includes('sign-in') ? ' (and lectern the sign-in provider)' : ''}`,
    });
  }
  return rules;
}

function portRanges(ports: readonly number[]): Array<[number, number]> {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p === last[1] + 1) last[1] = p;
    else out.push([p, p]);
  }
  return out;
}
