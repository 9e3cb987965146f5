// Generated residency sweep over the Canadian example stack (the shared body: support/sweepSuite.ts).
import { expect } from 'vitest';
import { seriousLines, sweepSuite } from './support/sweepSuite.js';

sweepSuite({
  stack: 'example-ca',
  title: 'generated residency sweep: Canada (separate TURN host)',
  country: 'CA',
  packConfig: () => 'CA',
  home: 'ca-west-1',
  foreign: 'us-east-1',
  hostConfigAudit: (code, out) => {
    expect(code, out).toBe(0);
    // Nothing at medium or above but IAM's unavoidable metadata.
    // SSH from adminSshCidrs is a deployment key the host's config drops: medium here, never high.
    const serious = seriousLines(out).filter((l) => !/MEDIUM +ports-beyond-need: TCP 22 open to 192\.0\.2\.0\/24/.test(l));
    expect(serious, out).toEqual([expect.stringContaining('metadata-outside-country: IAM metadata')]);
  },
});
