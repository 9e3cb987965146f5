// Generated residency sweep over the Danish example stack (the shared body: support/sweepSuite.ts).
import { expect } from 'vitest';
import { seriousLines, sweepSuite } from './support/sweepSuite.js';

sweepSuite({
  stack: 'example-dk',
  title: 'generated residency sweep: Denmark (Local Zone; control plane in Sweden accepted, data there refused)',
  country: 'DK',
  packConfig: (outputs) => (outputs.policyPackConfig as { all: { country: string; acceptParentRegionControlPlane?: boolean } }).all,
  home: 'eu-north-1',
  foreign: 'eu-central-1',
  parent: 'eu-north-1',
  hostConfigAudit: (code, out) => {
    // The host's config drops the deployment section, so it cannot accept the Swedish control plane or
    // state retention: those (and only those) stay findings here; with the stack's own config the same
    // export passes (the clean-stack test).
    expect(code).toBe(1);
    for (const line of seriousLines(out)) expect(line).toMatch(/ SE|eu-north-1|outside DK|IAM metadata|Recordings \(EBS lectern-store-data\): no retention/);
  },
});
