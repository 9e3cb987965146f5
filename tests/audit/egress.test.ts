// Issue 13 item 4, the audit side: every allowed egress destination is listed with its country, and
// every security-group egress rule wider than the list is reported.
import { describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import type { AuditInputs } from '../../audit/model/types.js';
import { completeFixture } from './helpers/fixtures.js';

const egress = (inputs: AuditInputs) => audit(inputs).findings.filter((f) => f.rule.startsWith('egress-'));
const group = (inputs: AuditInputs) => inputs.stack!.export.resources.find((r) => r.type === 'aws:ec2/securityGroup:SecurityGroup')!;

describe('egress check', () => {
  it("lists every destination of the clean stack with its country and operator, and nothing above low", () => {
    const findings = egress(completeFixture('clean'));
    const listed = findings.filter((f) => f.rule === 'egress-destination').map((f) => f.title);
    expect(listed).toContain('media host may connect to ssm.eu-north-1.amazonaws.com tcp/443 — SE');
    expect(listed).toContain('media host may connect to acme-v02.api.letsencrypt.org tcp/443 — US');
    expect(listed).toContain('media host may connect to registry.npmjs.org tcp/443 — US');
    expect(listed).toContain('media host may connect to 13.48.12.34/32 udp/40000,40001 — SE');
    expect(findings.filter((f) => f.severity === 'high' || f.severity === 'medium')).toEqual([]);
  });

  it('an all-traffic egress rule is high', () => {
    const inputs = completeFixture('clean');
    group(inputs).outputs.egress = [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }];
    expect(egress(inputs).filter((f) => f.severity === 'high').map((f) => f.title)).toEqual(['Egress of all traffic to 0.0.0.0/0 allows destinations nothing needs']);
  });

  it('a port or address no destination needs is high, however narrow', () => {
    const inputs = completeFixture('clean');
    const rules = group(inputs).outputs.egress as unknown[];
    group(inputs).outputs.egress = [...rules, { protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: ['198.51.100.7/32'] }, { protocol: 'udp', fromPort: 40000, toPort: 40001, cidrBlocks: ['0.0.0.0/0'] }];
    expect(egress(inputs).filter((f) => f.severity === 'high').map((f) => f.title)).toEqual([
      'Egress tcp/22 to 198.51.100.7/32 allows destinations nothing needs',
      'Egress udp/40000-40001 to 0.0.0.0/0 allows destinations nothing needs',
    ]);
  });

  it('a separate egress-rule resource is read too', () => {
    const inputs = completeFixture('clean');
    inputs.stack!.export.resources.push({ urn: 'urn:x::aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::open', type: 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule', name: 'open', id: 'open', providerUrn: undefined, custom: true, inputs: { ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' }, outputs: {}, region: 'eu-north-1', regionSource: 'x' });
    expect(egress(inputs).some((f) => f.severity === 'high' && f.where.includes('securityGroupEgressRule'))).toBe(true);
  });

  it('a stack without the destination list is high', () => {
    const inputs = completeFixture('clean');
    delete inputs.stack!.export.outputs.egressDestinations;
    expect(egress(inputs).map((f) => `${f.severity} ${f.rule}`)).toContain('high egress-unlisted');
  });
});
