// The live cluster registry: a registry the node could not read leaves the nodes unaudited, which
// is reported, never passed over (nodes outside the country are caught by the flow checks).
import type { AuditInputs, DataFlowModel, Finding } from '../model/types.js';

/** A cluster registry that was asked for but could not be read. */
export function checkClusterRegistry(inputs: AuditInputs, _model: DataFlowModel): Finding[] {
  if (inputs.clusterUnread) {
    return [
      {
        rule: 'cluster-registry-unread',
        severity: 'high',
        title: 'The cluster registry could not be fetched: whether other nodes carry these classes, and where, is not established',
        evidence: inputs.clusterUnread.reason,
        where: inputs.clusterUnread.source,
      },
    ];
  }
  const cluster = inputs.cluster;
  if (!cluster) return [];
  const findings: Finding[] = [];
  for (const refused of cluster.registry.refusedPipes ?? []) {
    findings.push({
      rule: 'pipe-refused-outside-country',
      severity: 'high',
      title: `A node tried to pipe a class to node ${refused.to} (${refused.country}), not proven in-country; the pipe was refused`,
      evidence: refused.reason,
      where: cluster.source,
    });
  }
  for (const pipe of cluster.registry.pipes ?? []) {
    if (pipe.srtp.home && pipe.srtp.edge) continue;
    findings.push({
      rule: 'pipe-unencrypted',
      severity: 'high',
      title: `The media pipe ${pipe.from} -> ${pipe.to} is not SRTP on both ends`,
      evidence: `SRTP home ${pipe.srtp.home}, edge ${pipe.srtp.edge}`,
      where: cluster.source,
    });
  }
  if (cluster.registry.state === 'ok') return findings;
  return [
    ...findings,
    {
      rule: 'cluster-registry-unread',
      severity: 'high',
      title: 'The cluster registry could not be read: where the other nodes run is not established',
      evidence: `node ${cluster.registry.nodeId} reported its registry as ${cluster.registry.state}`,
      where: cluster.source,
    },
  ];
}
