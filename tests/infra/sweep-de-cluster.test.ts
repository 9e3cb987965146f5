// Generated residency sweep over the German cluster stack (3 media nodes, ElastiCache Redis, separate
// TURN): every node, the Redis group, its subnet group and security groups moved abroad, copied
// (a global datastore with a secondary abroad for the Redis group) or untagged must be caught by both
// the audit and the policy pack (the shared body: support/sweepSuite.ts).
import { expect } from 'vitest';
import { seriousLines, sweepSuite } from './support/sweepSuite.js';

sweepSuite({
  stack: 'example-de-cluster',
  title: 'generated residency sweep: Germany, three media nodes and Redis',
  country: 'DE',
  packConfig: () => 'DE',
  home: 'eu-central-1',
  foreign: 'eu-west-1',
  mediaInstance: 'lectern-media-2-instance',
  hostConfigAudit: (code, out) => {
    expect(code, out).toBe(0);
    expect(seriousLines(out), out).toEqual([expect.stringContaining('metadata-outside-country: IAM metadata')]);
  },
});
