// Ports open beyond what Lectern needs. The needed set mirrors infra/firewall.ts (the deploy side's
// source of truth); audit may import only config/, so it is restated here from the same config keys.
// TODO(deploy): move mediaHostRules/turnHostRules into config/ so infra and audit share one function.
import type { LecternConfig } from '../../config/index.js';
import { DEFAULT_INTERNAL_PORT, DEFAULT_PIPE_PORTS } from '../../config/cluster.js';
import { isLoopback } from '../model/places.js';
import { stackFacts } from '../model/stackFacts.js';
import type { AuditInputs, Finding } from '../model/types.js';

interface Needed {
  protocol: 'tcp' | 'udp';
  from: number;
  to: number;
  /** `anywhere`, `restricted` (a CIDR or the SFU only), or `group` (members of a security group only: a cluster's nodes). */
  reach: 'anywhere' | 'restricted' | 'group';
  why: string;
}

/** The ports a Lectern deployment needs, from its config. */
export function neededPorts(config: LecternConfig | undefined): Needed[] {
  const media = config?.media;
  const first = media?.rtcPort ?? 40000;
  const workers = media?.workers && media.workers > 0 ? media.workers : 256; // 0 = per core: unknown here
  const turn = config?.deployment?.turn;
  const needed: Needed[] = [
    { protocol: 'tcp', from: 80, to: 80, reach: 'anywhere', why: 'ACME HTTP-01 and redirect' },
    { protocol: 'tcp', from: 443, to: 443, reach: 'anywhere', why: 'HTTPS and WebSocket signalling' },
    { protocol: 'udp', from: first, to: first + workers - 1, reach: 'anywhere', why: 'WebRTC media' },
    { protocol: 'tcp', from: first, to: first + workers - 1, reach: 'anywhere', why: 'WebRTC media over TCP' },
    { protocol: 'udp', from: turn?.port ?? 3478, to: turn?.port ?? 3478, reach: 'anywhere', why: 'TURN' },
    { protocol: 'tcp', from: turn?.port ?? 3478, to: turn?.port ?? 3478, reach: 'anywhere', why: 'TURN over TCP' },
    { protocol: 'tcp', from: turn?.tlsPort ?? 5349, to: turn?.tlsPort ?? 5349, reach: 'anywhere', why: 'TURN over TLS' },
    { protocol: 'udp', from: turn?.relayPortMin ?? 49152, to: turn?.relayPortMax ?? 49999, reach: 'restricted', why: 'TURN relay ports (SFU only)' },
  ];
  // A cluster (a node's written config names it; a stack asks for it with deployment.sfu.count > 1):
  // pipes and control between the nodes, Redis from the nodes, never by address.
  if (config?.cluster || (config?.deployment?.sfu.count ?? 1) > 1) {
    const pipe = media?.pipe ?? DEFAULT_PIPE_PORTS;
    const internal = config?.cluster?.internal?.port ?? DEFAULT_INTERNAL_PORT;
    const redisUrl = config?.cluster?.redis?.url;
    const redis = redisUrl ? Number(new URL(redisUrl).port || 6379) : (config?.cluster?.redis?.port ?? 6379);
    needed.push(
      { protocol: 'udp', from: pipe.portMin, to: pipe.portMax, reach: 'group', why: 'SRTP pipes between cluster nodes (nodes only)' },
      { protocol: 'tcp', from: internal, to: internal, reach: 'group', why: 'node-to-node control (nodes only)' },
      { protocol: 'tcp', from: redis, to: redis, reach: 'group', why: 'the coordination store (Redis), from the nodes only' },
    );
  }
  if (config?.deployment?.adminSshCidrs.length) needed.push({ protocol: 'tcp', from: 22, to: 22, reach: 'restricted', why: 'SSH from admin networks' });
  return needed;
}

const WORLD = new Set(['0.0.0.0/0', '::/0']);

/** Security-group ingress and live listeners beyond the needed set. */
export function checkPorts(inputs: AuditInputs): Finding[] {
  const config = inputs.config?.config;
  const needed = neededPorts(config);
  const ssh = new Set(config?.deployment?.adminSshCidrs ?? []);
  // `sources`: who a security-group rule lets in (a cluster port must name only groups); a live listener has none to judge.
  const covered = (protocol: string, from: number, to: number, world: boolean, sources?: readonly string[]): Needed | undefined =>
    needed.find((n) => n.protocol === protocol && from >= n.from && to <= n.to && (!world || n.reach === 'anywhere') && (n.reach !== 'group' || sources === undefined || (sources.length > 0 && sources.every((x) => x === 'security-group'))));
  const findings: Finding[] = [];

  for (const [index, rule] of stackIngress(inputs).entries()) {
    const world = rule.sources.some((s) => WORLD.has(s));
    const where = `${inputs.stack!.source}: ${rule.urn} ingress[${index}]`;
    const span = rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`;
    if (rule.protocol === 'all') {
      findings.push({ rule: 'ports-beyond-need', severity: world ? 'critical' : 'high', title: `All ports and protocols open${world ? ' to the internet' : ''}`, evidence: `protocol -1 from ${rule.sources.join(', ')}`, where });
      continue;
    }
    if (covered(rule.protocol, rule.fromPort, rule.toPort, world, rule.sources)) continue;
    if (!world && rule.fromPort === 22 && rule.toPort === 22 && rule.sources.every((s) => ssh.has(s) || s === 'security-group')) continue;
    findings.push({
      rule: 'ports-beyond-need',
      severity: world ? 'high' : 'medium',
      title: `${rule.protocol.toUpperCase()} ${span} open ${world ? 'to the internet' : `to ${rule.sources.join(', ')}`}, which Lectern does not need`,
      evidence: `${rule.description || 'no description'}; needed: ${needed.map((n) => `${n.protocol}/${n.from === n.to ? n.from : `${n.from}-${n.to}`}`).join(', ')}`,
      where,
    });
  }

  const runtime = inputs.runtime?.runtime;
  if (runtime) {
    const proxied = runtime.http.tls === 'proxy';
    for (const listener of runtime.listeners) {
      if (isLoopback(listener.address)) continue;
      const exposedBehindProxy = proxied && listener.purpose === 'http';
      if (!exposedBehindProxy && (covered(listener.protocol, listener.port, listener.port, false) || (listener.purpose === 'http' && listener.port === runtime.http.listen.port && runtime.http.tls === 'server'))) continue;
      findings.push({
        rule: 'ports-beyond-need',
        severity: exposedBehindProxy ? 'high' : 'medium',
        title: exposedBehindProxy ? `The Lectern process listens on ${listener.address}:${listener.port} although TLS is done by a proxy` : `Listens on ${listener.protocol}/${listener.port} (${listener.purpose}) beyond what Lectern needs`,
        evidence: `${listener.protocol} ${listener.address}:${listener.port} purpose ${listener.purpose}${exposedBehindProxy ? ': plain HTTP bypassing the proxy; bind it to 127.0.0.1' : ''}`,
        where: `${inputs.runtime!.source} listeners`,
      });
    }
  }
  return findings;
}

function stackIngress(inputs: AuditInputs): Array<{ urn: string; protocol: string; fromPort: number; toPort: number; sources: string[]; description: string }> {
  if (!inputs.stack) return [];
  return stackFacts(inputs.stack.export).ingress.map((rule) => ({ ...rule, urn: rule.resource.urn }));
}
