// Data at rest: recordings need retention and encryption; logs need retention and no full IPs.
import type { AuditInputs, DataFlowModel, Finding, Flow } from '../model/types.js';

const where = (flow: Flow): string => flow.seenIn.filter(Boolean).join(', ') || 'derived';

/** Recordings kept forever, with unknown retention, or unencrypted. */
export function checkRecordings(_inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const findings: Finding[] = [];
  for (const flow of model.flows.filter((f) => f.kind === 'recordings' && f.active)) {
    const days = flow.stored?.retentionDays;
    if (days === null || days === undefined) {
      findings.push({ rule: 'recordings-no-retention', severity: 'high', title: `${flow.label}: no retention`, evidence: days === null ? `kept forever: ${flow.retention}` : 'retention cannot be determined from the inputs', where: where(flow), flowId: flow.id });
    }
    if (flow.stored?.encryptedAtRest === false) {
      findings.push({ rule: 'recordings-unencrypted', severity: 'high', title: `${flow.label}: not encrypted at rest`, evidence: flow.encryption, where: where(flow), flowId: flow.id });
    }
  }
  return findings;
}

/** Logs kept forever or with full client IP addresses. */
export function checkLogs(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const findings: Finding[] = [];
  for (const flow of model.flows.filter((f) => f.kind === 'logs' && f.active)) {
    const days = flow.stored?.retentionDays;
    if (days === null) findings.push({ rule: 'logs-no-retention', severity: 'medium', title: `${flow.label}: kept forever`, evidence: flow.retention, where: where(flow), flowId: flow.id });
    else if (days === undefined && (inputs.runtime || inputs.stack)) findings.push({ rule: 'logs-no-retention', severity: 'low', title: `${flow.label}: retention unknown`, evidence: 'no input states how long logs are kept', where: where(flow), flowId: flow.id });
  }
  const runtime = inputs.runtime?.runtime;
  if (runtime?.logs.ipAddresses === 'full') {
    findings.push({ rule: 'logs-full-ip', severity: 'medium', title: 'Logs keep full client IP addresses', evidence: 'logs.ipAddresses = full; truncate to /24 (IPv4) and /48 (IPv6) or drop them', where: `${inputs.runtime!.source} logs.ipAddresses` });
  }
  return findings;
}

/** Host volumes (which hold logs and the audit log) without encryption. */
export function checkVolumes(inputs: AuditInputs): Finding[] {
  const findings: Finding[] = [];
  for (const r of inputs.stack?.export.resources ?? []) {
    const unencryptedVolume = r.type === 'aws:ebs/volume:Volume' && r.inputs.encrypted !== true && r.outputs.encrypted !== true;
    const root = r.type === 'aws:ec2/instance:Instance' ? ((r.inputs.rootBlockDevice ?? r.outputs.rootBlockDevice) as { encrypted?: unknown } | undefined) : undefined;
    const unencryptedRoot = r.type === 'aws:ec2/instance:Instance' && root?.encrypted !== true;
    if (!unencryptedVolume && !unencryptedRoot) continue;
    findings.push({ rule: 'volume-unencrypted', severity: 'medium', title: `${r.name}: ${unencryptedRoot ? 'root volume' : 'volume'} not encrypted`, evidence: unencryptedRoot ? 'rootBlockDevice.encrypted is not true' : 'encrypted is not true', where: `${inputs.stack!.source}: ${r.urn}` });
  }
  return [...findings, ...checkCoordinationStores(inputs)];
}

/**
 * A cluster's Redis (node registry, room directory: node addresses, class names) not encrypted at rest
 * or in transit, TLS optional, or open to any client that reaches it. The same rule as the policy pack's
 * lectern-encryption-required for this type.
 */
function checkCoordinationStores(inputs: AuditInputs): Finding[] {
  const findings: Finding[] = [];
  for (const r of inputs.stack?.export.resources ?? []) {
    if (r.type !== 'aws:elasticache/replicationGroup:ReplicationGroup') continue;
    const v = { ...r.outputs, ...r.inputs };
    const problems: string[] = [];
    if (v.atRestEncryptionEnabled !== true) problems.push('not encrypted at rest (atRestEncryptionEnabled)');
    if (v.transitEncryptionEnabled !== true) problems.push('not encrypted in transit (transitEncryptionEnabled)');
    else if (v.transitEncryptionMode !== undefined && v.transitEncryptionMode !== 'required') problems.push(`transitEncryptionMode ${String(v.transitEncryptionMode)}: clients may connect without TLS`);
    if (!v.authToken && !(Array.isArray(v.userGroupIds) && v.userGroupIds.length > 0)) problems.push('no AUTH token or user group');
    if (problems.length > 0) findings.push({ rule: 'store-unprotected', severity: 'high', title: `${r.name}: the coordination store is ${problems.join('; ')}`, evidence: 'the registry and room directory name nodes and classes', where: `${inputs.stack!.source}: ${r.urn}` });
  }
  return findings;
}
