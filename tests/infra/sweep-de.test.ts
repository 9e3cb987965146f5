// Generated residency sweep over the German example stack (the shared body: support/sweepSuite.ts).
import { expect } from 'vitest';
import { seriousLines, sweepSuite } from './support/sweepSuite.js';

sweepSuite({
  stack: 'example-de',
  title: 'generated residency sweep: Germany',
  country: 'DE',
  packConfig: () => 'DE',
  home: 'eu-central-1',
  foreign: 'eu-west-1',
  hostConfigAudit: (code, out) => {
    expect(code, out).toBe(0);
    // Nothing at medium or above but IAM's unavoidable metadata.
    expect(seriousLines(out), out).toEqual([expect.stringContaining('metadata-outside-country: IAM metadata')]);
  },
});
