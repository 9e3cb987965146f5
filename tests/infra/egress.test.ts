// Issue 13 item 4, checked against the config: the destination list, the security-group egress and
// the nftables policy the program generates allow what the deployment needs and nothing wider.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { planDeployment } from '../../infra/plan.js';
import { deployedServerConfig } from '../../infra/server-config.js';
import { egressDestinations, type EgressDestination } from '../../infra/egress/destinations.js';
import { nftablesRuleset } from '../../infra/egress/nftables.js';
import { egressRules } from '../../infra/firewall.js';
import { runProgram, stackConfig, type Recorded } from './support/harness.js';
import { cloudConfig, userDataOf } from './support/checks.js';

const ISSUER = 'https://login.example-uni.dk';
const SFU = '203.0.113.10';

function destinationsFor(file: string, host: 'media' | 'turn', extra: Record<string, unknown> = {}): EgressDestination[] {
  const plan = planDeployment(stackConfig(file, extra));
  return egressDestinations(host, { serverConfig: deployedServerConfig(plan, { announcedAddress: SFU }), deployment: plan.deployment, region: plan.placement.providerRegion, sfuAddress: SFU, bucket: 'lectern-recordings' });
}

/** The accept rules of one chain of the generated text. */
function acceptsOf(text: string, chain: string): string[] {
  const body = text.split(`\tchain ${chain} {\n`)[1]!.split('\n\t}')[0]!;
  return body.split('\n').map((l) => l.trim()).filter((l) => l.endsWith(' accept'));
}

describe('the generated nftables policy (Denmark, colocated TURN, with a sign-in provider)', () => {
  const destinations = destinationsFor('Pulumi.example-dk.yaml', 'media', { 'lectern:auth': { oidc: { issuer: ISSUER, clientId: 'lectern' } } });
  const ruleset = nftablesRuleset(destinations);

  it('lets the lectern user reach exactly DNS, instance metadata and the sign-in provider', () => {
    expect(acceptsOf(ruleset.text, 'lectern')).toEqual([
      'ip daddr 169.254.169.253/32 udp dport 53 accept',
      'ip daddr 169.254.169.253/32 tcp dport 53 accept',
      'ip daddr 169.254.169.254/32 tcp dport 80 accept',
      'ip daddr @n_sign_in_v4 tcp dport 443 accept',
      'ip6 daddr @n_sign_in_v6 tcp dport 443 accept',
    ]);
    expect(ruleset.namedSets.filter((s) => acceptsOf(ruleset.text, 'lectern').some((l) => l.includes(`@${s.set} `))).map((s) => s.name)).toEqual(['login.example-uni.dk', 'login.example-uni.dk']);
  });

  it('lets coturn relay only to the SFU, on its media ports, and refuses everything else for both users', () => {
    const plan = planDeployment(stackConfig('Pulumi.example-dk.yaml'));
    const first = plan.config.media.rtcPort;
    const ports = Array.from({ length: plan.config.media.workers }, (_, i) => first + i);
    expect(acceptsOf(ruleset.text, 'coturn')).toEqual([`ip daddr ${SFU}/32 udp dport ${ports.length === 1 ? ports[0] : `{ ${ports.join(', ')} }`} accept`]);
    for (const chain of ['lectern', 'coturn']) {
      const body = ruleset.text.split(`\tchain ${chain} {\n`)[1]!.split('\n\t}')[0]!;
      const lines = body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      // Every accept names an address (or a set) and a port; the chain ends by refusing the rest.
      expect(lines.filter((l) => l.endsWith(' accept')).every((l) => /daddr \S+ (tcp|udp) dport \S+/.test(l))).toBe(true);
      expect(lines.slice(-2)).toEqual([`counter name denied_${chain} meta l4proto tcp reject with tcp reset`, `counter name denied_${chain} reject with icmpx admin-prohibited`]);
    }
    // Replies pass before any user is looked at; root (installing, certbot, AWS CLI) is not jumped.
    expect(ruleset.text).toMatch(/ct state established,related accept\n\t\tmeta skuid lectern jump lectern\n\t\tmeta skuid turnserver jump coturn\n/);
  });

  it('is accepted by nft itself', () => {
    const asRoot = process.getuid?.() === 0;
    execFileSync('unshare', [asRoot ? '-n' : '-rn', 'nft', '-c', '-f', '-'], { input: nftablesRuleset(destinations, { lectern: 65534, coturn: 65533 }).text });
  });

  it('has no sign-in rule without a sign-in provider, and a separate TURN host has no lectern rule', () => {
    expect(destinationsFor('Pulumi.example-dk.yaml', 'media').map((d) => d.id)).not.toContain('sign-in');
    const turn = nftablesRuleset(destinationsFor('Pulumi.example-ca.yaml', 'turn'), { coturn: 'turnserver' });
    expect(turn.text).not.toContain('meta skuid lectern');
    expect(acceptsOf(turn.text, 'lectern')).toEqual([]);
  });
});

describe('security-group egress from the same list', () => {
  it('has no all-traffic rule; every 0.0.0.0/0 rule is one port for named destinations and says so', () => {
    const rules = egressRules(destinationsFor('Pulumi.example-dk.yaml', 'media', { 'lectern:auth': { oidc: { issuer: ISSUER, clientId: 'lectern' } } }));
    for (const r of rules) {
      expect(['tcp', 'udp']).toContain(r.protocol);
      if (r.cidr === '0.0.0.0/0') {
        expect(r.fromPort).toBe(r.toPort);
        expect(r.widerBecause).toBeDefined();
      }
    }
    expect(rules.filter((r) => r.cidr === '0.0.0.0/0').map((r) => `${r.protocol}/${r.fromPort}`).sort()).toEqual(['tcp/443', 'tcp/80']);
    expect(rules.find((r) => r.cidr === `${SFU}/32`)).toMatchObject({ protocol: 'udp', destinations: ['turn-to-sfu'] });
  });
});

describe('example stack under mocks: Canada (separate TURN)', () => {
  let resources: Recorded[];
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    ({ resources, outputs } = await runProgram(stackConfig('Pulumi.example-ca.yaml'), 'lectern', 'example-ca'));
  }, 60_000);

  it('each security group holds exactly the egress derived from its host list, exported for the audit', () => {
    const listed = outputs.egressDestinations as { media: EgressDestination[]; turn: EgressDestination[] };
    expect(listed.media.map((d) => d.id)).toContain('aws-ssm');
    expect(listed.turn.map((d) => d.id)).toContain('turn-to-sfu');
    for (const [name, list] of [['lectern-media-sg', listed.media], ['lectern-turn-sg', listed.turn]] as const) {
      const group = resources.find((r) => r.type === 'aws:ec2/securityGroup:SecurityGroup' && r.name === name)!;
      expect(group.inputs.egress, name).toEqual(egressRules(list).map((r) => ({ protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, cidrBlocks: [r.cidr], description: r.description })));
      expect((group.inputs.egress as Array<{ protocol: string }>).some((r) => r.protocol === '-1')).toBe(false);
    }
  });

  it('each host writes the policy generated from its list and runs nothing before it is loaded', () => {
    const listed = outputs.egressDestinations as { media: EgressDestination[]; turn: EgressDestination[] };
    const media = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
    expect(media.write_files.find((f) => f.path === '/etc/lectern/egress.nft')?.content).toBe(nftablesRuleset(listed.media, { lectern: 'lectern', coturn: undefined }).text);
    expect(media.write_files.find((f) => f.path === '/etc/systemd/system/lectern.service')?.content).toContain('Requires=lectern-egress.service');
    expect(media.packages).toContain('nftables');
    const enable = media.runcmd.findIndex((c) => c.join(' ') === 'systemctl enable --now lectern-egress.service');
    expect(enable).toBeGreaterThan(media.runcmd.findIndex((c) => c[0] === 'useradd'));
    expect(enable).toBeLessThan(media.runcmd.findIndex((c) => c.join(' ') === 'systemctl enable --now lectern.service'));
    const turn = cloudConfig(userDataOf(resources, 'lectern-turn-instance'));
    expect(turn.write_files.find((f) => f.path === '/etc/lectern/egress.nft')?.content).toBe(nftablesRuleset(listed.turn, { coturn: 'turnserver' }).text);
    expect(turn.write_files.find((f) => f.path === '/etc/systemd/system/coturn.service.d/lectern.conf')?.content).toContain('Requires=lectern-egress.service');
  });
});
