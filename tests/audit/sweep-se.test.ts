// Generated residency sweep over the audit's clean Swedish fixture (a stack export as `pulumi stack
// export` writes it): every leaky variant fails `lectern audit` and is refused by the policy pack.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAuditConfig } from '../../audit/sources/configFile.js';
import type { Recorded } from '../infra/support/harness.js';
import { FIXTURES } from './helpers/fixtures.js';
import { auditGraph, packGraph, runSweep, type SweepBase } from './helpers/sweep.js';

interface ExportedState { urn: string; type: string; id?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown>; provider?: string }

const exported = JSON.parse(readFileSync(join(FIXTURES, 'clean', 'stack.json'), 'utf8')) as { deployment: { resources: ExportedState[] } };
const states = exported.deployment.resources;
const root = states.find((s) => s.type === 'pulumi:pulumi:Stack')!;
const graph: Recorded[] = states
  .filter((s) => s !== root)
  .map((s) => ({ type: s.type, name: s.urn.split('::').pop()!, inputs: { ...(s.inputs ?? {}) }, provider: s.provider ?? '', id: s.id ?? '', urn: s.urn }));
const base: SweepBase = {
  name: 'se',
  graph,
  outputs: root.outputs ?? {},
  country: 'SE',
  packConfig: 'SE',
  config: parseAuditConfig(JSON.parse(readFileSync(join(FIXTURES, 'clean', 'lectern.json'), 'utf8')), 'clean/lectern.json'),
  home: 'eu-north-1',
  foreign: 'eu-central-1',
};

describe('generated residency sweep: the clean Swedish fixture', () => {
  it('the clean stack passes the audit (exit 0) and the pack (no violation)', async () => {
    expect(auditGraph(base, base.graph)).toEqual({ code: 0, failing: [] });
    expect(await packGraph(base, base.graph)).toEqual([]);
  });

  it('every variant fails the audit and is refused by the pack, naming the resource', async () => {
    const result = await runSweep(base);
    expect(result.missedByAudit).toEqual([]);
    expect(result.missedByPack).toEqual([]);
    expect(result.caughtByAudit).toBe(result.variants);
    expect(result.caughtByPack).toBe(result.variants);
  }, 120_000);
});
