// Egress: every destination the hosts may open a connection to, with its country, and every
// security-group egress rule that allows more than that list. The list is the stack output
// `egressDestinations` (infra/egress/destinations.ts); a rule it does not cover is high, and a rule
// wider than its destinations (a named destination has no address list, so the group says
// 0.0.0.0/0 for its port) is reported, naming the on-host policy that narrows it.
import type { AuditInputs, DataFlowModel, Finding } from '../model/types.js';
import type { StackResource } from '../sources/stackExport.js';

/** One listed destination, as the stack output carries it. */
interface Destination {
  id: string;
  purpose: string;
  target: { kind: 'name'; name: string } | { kind: 'cidr'; cidr: string };
  protocol: 'tcp' | 'udp';
  ports: number[];
  users: string[];
  phase: string;
  country: string | null;
  operator: string;
}

/** One egress permission as a security group holds it. */
interface EgressPermission {
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrs: string[];
  where: string;
}

const ANYWHERE = new Set(['0.0.0.0/0', '::/0']);

/** List the allowed destinations; report every egress rule the list does not account for. */
export function checkEgress(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const stack = inputs.stack;
  if (!stack) return [];
  const groups = stack.export.resources.filter((r) => r.type === 'aws:ec2/securityGroup:SecurityGroup');
  const permissions = [...groups.flatMap(inlineEgress), ...stack.export.resources.flatMap(separateEgress)];
  if (groups.length === 0 && permissions.length === 0) return [];
  const listed = readDestinations(stack.export.outputs.egressDestinations);
  const findings: Finding[] = [];
  const where = `${stack.source} output egressDestinations`;
  if (listed === undefined) {
    findings.push({ rule: 'egress-unlisted', severity: 'high', title: 'The stack lists no allowed egress destinations', evidence: 'no egressDestinations output: what the hosts may connect to is not established, so every egress rule below is wider than an empty list', where });
  }
  for (const [host, d] of listed ?? []) {
    const inCountry = d.country !== null && d.country === model.country;
    const target = d.target.kind === 'name' ? d.target.name : d.target.cidr;
    findings.push({
      rule: 'egress-destination',
      // A listing: whether the data these connections carry may leave is judged on the flows
      // (sign-in, certificates, updates); here the reader sees every place a host can reach.
      severity: 'info',
      title: `${host} host may connect to ${target} ${d.protocol}/${d.ports.join(',')} — ${d.country ?? 'country not established'}`,
      evidence: `${d.purpose}; operator ${d.operator}; opened by ${d.users.join(', ')}${d.phase === 'install' ? ' (while installing)' : ''}${inCountry ? '' : `; outside ${model.country ?? 'the declared country'} or not placed`}`,
      where,
    });
  }
  const destinations = (listed ?? []).map(([, d]) => d);
  for (const p of permissions) {
    const verdict = coverage(p, destinations);
    if (verdict.kind === 'exact') continue;
    const ports = p.fromPort === p.toPort ? `${p.fromPort}` : `${p.fromPort}-${p.toPort}`;
    const rule = `${p.protocol === '-1' ? 'of all traffic' : `${p.protocol}/${ports}`} to ${p.cidrs.join(', ') || '(no address)'}`;
    if (verdict.kind === 'named') {
      findings.push({ rule: 'egress-wider-than-list', severity: 'low', title: `Egress ${rule} is wider than its destinations`, evidence: `needed for ${verdict.names.join(', ')}, which have no fixed address list; on the host the nftables policy lets only the listed users reach them`, where: p.where });
    } else {
      findings.push({ rule: 'egress-wider-than-list', severity: 'high', title: `Egress ${rule} allows destinations nothing needs`, evidence: verdict.why, where: p.where });
    }
  }
  return findings;
}

type Coverage = { kind: 'exact' } | { kind: 'named'; names: string[] } | { kind: 'uncovered'; why: string };

function coverage(p: EgressPermission, destinations: Destination[]): Coverage {
  if (p.protocol !== 'tcp' && p.protocol !== 'udp') return { kind: 'uncovered', why: `protocol ${p.protocol === '-1' ? 'all (-1)' : p.protocol}: every listed destination is TCP or UDP on named ports` };
  if (p.cidrs.length === 0) return { kind: 'uncovered', why: 'egress to a prefix list or another group: not checkable against the list' };
  const names = new Set<string>();
  for (let port = p.fromPort; port <= p.toPort; port++) {
    const here = destinations.filter((d) => d.protocol === p.protocol && d.ports.includes(port));
    for (const cidr of p.cidrs) {
      if (here.some((d) => d.target.kind === 'cidr' && d.target.cidr === cidr)) continue;
      const named = here.filter((d) => d.target.kind === 'name');
      if (ANYWHERE.has(cidr) && named.length > 0) {
        named.forEach((d) => names.add(d.target.kind === 'name' ? d.target.name : ''));
        continue;
      }
      return { kind: 'uncovered', why: `${p.protocol}/${port} to ${cidr}: no listed destination is there` };
    }
  }
  return names.size > 0 ? { kind: 'named', names: [...names] } : { kind: 'exact' };
}

function inlineEgress(r: StackResource): EgressPermission[] {
  const rules = (r.outputs.egress ?? r.inputs.egress) as unknown;
  if (!Array.isArray(rules)) return [];
  return rules.map((rule: Record<string, unknown>, i) => ({
    protocol: protocolName(rule.protocol),
    fromPort: Number(rule.fromPort ?? 0),
    toPort: Number(rule.toPort ?? 0),
    cidrs: [...strings(rule.cidrBlocks), ...strings(rule.ipv6CidrBlocks)],
    where: `${r.urn} egress[${i}]`,
  }));
}

// Rules kept as their own resources (aws:ec2/securityGroupRule type egress, aws:vpc/securityGroupEgressRule).
function separateEgress(r: StackResource): EgressPermission[] {
  const v = { ...r.inputs, ...r.outputs } as Record<string, unknown>;
  if (r.type === 'aws:ec2/securityGroupRule:SecurityGroupRule' && v.type === 'egress') {
    return [{ protocol: protocolName(v.protocol), fromPort: Number(v.fromPort ?? 0), toPort: Number(v.toPort ?? 0), cidrs: [...strings(v.cidrBlocks), ...strings(v.ipv6CidrBlocks)], where: r.urn }];
  }
  if (r.type === 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule') {
    const cidrs = [v.cidrIpv4, v.cidrIpv6].filter((c): c is string => typeof c === 'string');
    return [{ protocol: protocolName(v.ipProtocol), fromPort: Number(v.fromPort ?? 0), toPort: Number(v.toPort ?? 65535), cidrs, where: r.urn }];
  }
  return [];
}

function protocolName(value: unknown): string {
  const s = String(value ?? '-1').toLowerCase();
  return s === '6' ? 'tcp' : s === '17' ? 'udp' : s === 'all' ? '-1' : s;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}

/** The output's destinations per host, or undefined when absent or not in the expected shape. */
function readDestinations(value: unknown): Array<[string, Destination]> | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const out: Array<[string, Destination]> = [];
  for (const [host, list] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(list)) return undefined;
    for (const d of list) {
      if (!isDestination(d)) return undefined;
      out.push([host, d]);
    }
  }
  return out;
}

function isDestination(d: unknown): d is Destination {
  if (!d || typeof d !== 'object') return false;
  const x = d as Record<string, unknown>;
  const t = x.target as Record<string, unknown> | undefined;
  return (
    typeof x.id === 'string' && typeof x.purpose === 'string' && (x.protocol === 'tcp' || x.protocol === 'udp') && Array.isArray(x.ports) && x.ports.every((p) => Number.isInteger(p)) &&
    Array.isArray(x.users) && typeof x.operator === 'string' && (x.country === null || typeof x.country === 'string') && !!t &&
    ((t.kind === 'name' && typeof t.name === 'string') || (t.kind === 'cidr' && typeof t.cidr === 'string'))
  );
}
