// The only ports a Lectern deployment opens, derived from the validated config. Pure, so the tests can
// compare the security groups in the graph against exactly this list.
import type { LecternConfig } from '../config/index.js';
import type { DeploymentConfig } from '../config/deployment.js';

/** Who may reach a port: everyone, the SFU's own Elastic IP, or one admin CIDR. */
export type RuleSource = { kind: 'anywhere' } | { kind: 'sfu' } | { kind: 'cidr'; cidr: string };

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

function sshRules(deployment: DeploymentConfig): IngressRule[] {
  return deployment.adminSshCidrs.map((cidr) => ({
    protocol: 'tcp' as const,
    fromPort: 22,
    toPort: 22,
    source: { kind: 'cidr' as const, cidr },
    description: 'SSH from an admin network',
  }));
}
