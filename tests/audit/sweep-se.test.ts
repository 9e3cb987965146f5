// Generated residency sweep over the audit's clean Swedish fixture (a stack export as `pulumi stack
// export` writes it): every leaky variant fails `lectern audit` and is refused by the policy pack.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'vitest';
import { parseAuditConfig } from '../../audit/sources/configFile.js';
import type { Recorded } from '../infra/support/harness.js';
import { FIXTURES } from './helpers/fixtures.js';
import type { SweepBase } from './helpers/sweep.js';
import { itCatchesEveryVariant, itPassesClean } from './helpers/sweepCases.js';

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
  itPassesClean(() => base);
  itCatchesEveryVariant(() => base);
});
