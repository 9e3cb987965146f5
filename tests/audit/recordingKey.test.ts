// Issue 16: the audit reports the key wrapping recordings' data keys as a flow at its region, with
// its country, from the config (recording.keyWrapping), the live server (the KEK ids it reports)
// and the stack (a KMS key for recordings). A key abroad is a flow outside the country (high); a
// multi-Region key, wherever its primary is, is high; a key in the country is no finding.
import { describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import type { StackExport, StackResource } from '../../audit/sources/stackExport.js';
import type { AuditInputs, Finding } from '../../audit/model/types.js';
import type { AdminRuntime } from '../../audit/sources/adminRuntime.js';
import { completeFixture } from './helpers/fixtures.js';

const arn = (region: string, id = '0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b') => `arn:aws:kms:${region}:123456789012:key/${id}`;

/** The clean Swedish fixture, its config wrapping recordings with `keyArn`. */
function withConfigKey(keyArn: string, region: string): AuditInputs {
  const inputs = completeFixture('clean');
  inputs.config!.config.recording.keyWrapping = { kind: 'aws-kms', keyArn, region, country: 'SE' };
  return inputs;
}
const keyFindings = (findings: Finding[]) => findings.filter((f) => f.title.includes('Recording key') || f.rule === 'recording-key-multi-region');

describe('the recording key in the audit', () => {
  it('an in-country single-Region key is a flow in the country and no finding', () => {
    const report = audit(withConfigKey(arn('eu-north-1'), 'eu-north-1'));
    const flow = report.model.flows.find((f) => f.label === `Recording key (KMS ${arn('eu-north-1')})`)!;
    expect(flow.location).toMatchObject({ country: 'SE', scope: 'region', place: 'eu-north-1 (Stockholm)' });
    expect(flow.location.basis).toContain('region of the key ARN');
    expect(flow.encryption).toContain('single-Region');
    expect(keyFindings(report.findings)).toEqual([]);
  });

  it('a key abroad is high: named by the config, or reported by the live server for its recordings', () => {
    const fromConfig = audit(withConfigKey(arn('eu-central-1'), 'eu-central-1'));
    expect(keyFindings(fromConfig.findings)).toEqual([expect.objectContaining({ rule: 'flow-outside-country', severity: 'high', title: `Recording key (KMS ${arn('eu-central-1')}) is in DE, not SE` })]);

    const inputs = completeFixture('clean');
    const runtime = inputs.runtime!.runtime as AdminRuntime;
    runtime.recordings = {
      checkedAt: '2026-12-01T12:00:00.000Z',
      consentPolicy: 'ask',
      defaultRetentionDays: 30,
      kekId: arn('eu-north-1'),
      count: 1,
      // An older recording still wrapped by a key in Frankfurt.
      items: [{ id: 'r1', room: 'physics', startedAt: '2026-11-30T10:00:00.000Z', expiresAt: '2026-12-30T10:00:00.000Z', retentionDays: 30, active: false, kekId: arn('eu-central-1', '99999999-4b5a-6978-8a9b-0c1d2e3f4a5b'), recordedPeerIds: [] }],
    };
    const report = audit(inputs);
    const findings = keyFindings(report.findings);
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['flow-outside-country', 'high']]);
    expect(findings[0]!.title).toContain('99999999');
    expect(report.model.flows.filter((f) => f.label.startsWith('Recording key')).map((f) => f.location.country).sort()).toEqual(['DE', 'SE']);
  });

  it('a multi-Region key is high even in the country: from its ARN, or from the stack\'s multiRegion', () => {
    const mrk = arn('eu-north-1', 'mrk-1234abcd12ab34cd56ef1234567890ab');
    expect(keyFindings(audit(withConfigKey(mrk, 'eu-north-1')).findings).map((f) => [f.rule, f.severity])).toEqual([['recording-key-multi-region', 'high']]);

    const inputs = completeFixture('clean');
    const stack = inputs.stack!.export;
    const sibling = stack.resources.find((r) => r.type === 'aws:kms/key:Key')!;
    const resource: StackResource = {
      urn: 'urn:pulumi:se::lectern::lectern:infra:RecordingKey$aws:kms/key:Key::lectern-recording-key-key',
      type: 'aws:kms/key:Key',
      name: 'lectern-recording-key-key',
      id: 'mrk-key',
      custom: true,
      inputs: { multiRegion: true, tags: { 'lectern:purpose': 'recordings' } },
      outputs: { multiRegion: true, arn: mrk },
      providerUrn: sibling.providerUrn,
      region: sibling.region,
      regionSource: sibling.regionSource,
    };
    const exported: StackExport = { ...stack, resources: [...stack.resources, resource] };
    const report = audit({ ...inputs, stack: { source: 'stack.json', export: exported } });
    const findings = keyFindings(report.findings);
    expect(findings.map((f) => [f.rule, f.severity, f.where])).toEqual([['recording-key-multi-region', 'high', resource.urn]]);
    const flow = report.model.flows.find((f) => f.label === `Recording key (KMS ${mrk})`)!;
    expect(flow.location.country).toBe('SE');
    expect(flow.encryption).toContain('MULTI-REGION');
  });
});
