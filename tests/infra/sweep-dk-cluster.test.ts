// Generated residency sweep over the Danish cluster stack (3 media nodes in the Copenhagen Local Zone,
// Redis on media-1, separate TURN; the shared body: support/sweepSuite.ts): every node, volume,
// security group and the rest moved abroad, moved untagged, moved to the accepted parent region
// (Sweden: the control plane may be there, data may not), or copied (an instance imaged and copied,
// a volume snapshotted and copied) must be caught by both the audit and the policy pack.
import { expect } from 'vitest';
import { seriousLines, sweepSuite } from './support/sweepSuite.js';

sweepSuite({
  stack: 'example-dk-cluster',
  title: 'generated residency sweep: Denmark, three media nodes in the Local Zone, Redis on media-1',
  country: 'DK',
  packConfig: (outputs) => (outputs.policyPackConfig as { all: { country: string; acceptParentRegionControlPlane?: boolean } }).all,
  home: 'eu-north-1',
  foreign: 'eu-central-1',
  parent: 'eu-north-1',
  mediaInstance: 'lectern-media-1-instance',
  hostConfigAudit: (code, out) => {
    // A node's config keeps the deployment section (a cluster node proves its placement), which accepts
    // the Swedish control plane: only the IAM metadata (global) is left, as for the German cluster.
    expect(code, out).toBe(0);
    expect(seriousLines(out), out).toEqual([expect.stringContaining('metadata-outside-country: IAM metadata')]);
  },
});
