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
  if (!cluster || cluster.registry.state === 'ok') return [];
  return [
    {
      rule: 'cluster-registry-unread',
      severity: 'high',
      title: 'The cluster registry could not be read: where the other nodes run is not established',
      evidence: `node ${cluster.registry.nodeId} reported its registry as ${cluster.registry.state}`,
      where: cluster.source,
    },
  ];
}
