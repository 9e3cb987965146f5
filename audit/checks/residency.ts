// Residency checks: is every flow in the country, and is everything that is not said out loud?
import { REPLICATION_TYPES } from '../../config/residency/index.js';
import { globalServiceOf, plannedPlacement } from '../model/buildModel.js';
import { isLoopback, localZoneParent } from '../model/places.js';
import type { AuditInputs, DataFlowModel, Finding, Flow, Severity } from '../model/types.js';

const where = (flow: Flow): string => flow.seenIn.filter(Boolean).join(', ') || 'derived';

/** No country declared: nothing can be checked for residency. */
export function checkCountryDeclared(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  if (model.country) return [];
  const local = !inputs.stack && model.flows.every((f) => f.location.scope === 'loopback' || !f.active || f.kind === 'third-party');
  const publicHost = inputs.config && !isLoopback(inputs.config.config.http.host);
  return [
    {
      rule: 'country-undeclared',
      severity: local && !publicHost ? 'info' : 'high',
      title: 'No deployment country: residency cannot be checked',
      evidence: local ? 'a local Lectern bound to loopback; nothing leaves this machine except what other findings list' : 'no deployment.country in the config, no country from the live server or the stack outputs',
      where: inputs.config?.source ?? inputs.stack?.source ?? inputs.runtime?.source ?? 'inputs',
    },
  ];
}

/** The config asks for a placement the residency catalogue refuses. */
export function checkPlacement(inputs: AuditInputs): Finding[] {
  const planned = plannedPlacement(inputs);
  if (!planned || 'placement' in planned) return [];
  return planned.refused.map((problem) => ({
    rule: 'placement-refused',
    severity: 'high' as const,
    title: 'The configured placement is outside the country or not possible',
    evidence: problem,
    where: `${inputs.config!.source} deployment.placement`,
  }));
}

/** Any flow whose derived location is in another country. */
export function checkFlowsOutsideCountry(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  if (!model.country) return [];
  const findings: Finding[] = [];
  const zone = localZoneOf(model);
  for (const flow of model.flows) {
    const c = flow.location.country;
    if (!flow.active || c === null || c === model.country) continue;
    if (flow.location.scope === 'global' || flow.kind === 'third-party') continue; // their own rules
    if (zone && flow.location.place.startsWith(zone.parentRegion) && !flow.personalData) continue; // Local Zone caveat
    let severity: Severity = flow.personalData ? 'high' : 'medium';
    if (flow.kind === 'tls-issuance' || flow.kind === 'software-updates') severity = 'low';
    findings.push({
      rule: 'flow-outside-country',
      severity,
      title: `${flow.label} is in ${c}, not ${model.country}`,
      evidence: `${flow.location.place}; derived from ${flow.location.basis}${flow.caveat ? ` (${flow.caveat})` : ''}`,
      where: where(flow),
      flowId: flow.id,
    });
  }
  return findings;
}

/** Flows whose location cannot be derived from any input. */
export function checkLocationsUnknown(_inputs: AuditInputs, model: DataFlowModel): Finding[] {
  return model.flows
    .filter((f) => f.active && (f.location.scope === 'unknown' || (f.location.scope === 'third-party' && f.location.country === null && f.kind !== 'third-party')))
    .map((flow) => ({
      rule: 'location-unknown',
      severity: (flow.kind === 'dns' || flow.kind === 'software-updates' || (flow.kind === 'sign-in' && flow.location.scope === 'unknown') ? 'info' : flow.personalData ? 'high' : 'medium') as Severity,
      title: `Cannot tell where ${flow.label} is`,
      evidence: flow.location.basis,
      where: where(flow),
      flowId: flow.id,
    }));
}

/** Global AWS services: their metadata lives outside every country. */
export function checkGlobalServices(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const findings: Finding[] = [];
  const byService = new Map<string, Array<{ type: string; name: string; urn: string }>>();
  for (const r of inputs.stack?.export.resources ?? []) {
    const service = globalServiceOf(r.type);
    if (service) byService.set(service, [...(byService.get(service) ?? []), r]);
  }
  for (const [service, resources] of byService) {
    const cdn = service === 'CloudFront' || service === 'Global Accelerator';
    findings.push({
      rule: 'metadata-outside-country',
      severity: cdn ? 'high' : 'medium',
      title: cdn ? `${service} serves and caches content at edge locations worldwide` : `${service} metadata is held outside ${model.country ?? 'the country'}`,
      evidence: `${resources.map((r) => `${r.type.split(':').pop()} "${r.name}"`).join(', ')}: ${service} is a global AWS service (control plane in us-east-1); names, tags${service === 'Route 53' ? ', DNS records' : ''} and policies leave the country — keep personal data out of them`,
      where: `${inputs.stack!.source}: ${resources[0]!.urn}${resources.length > 1 ? ` (+${resources.length - 1})` : ''}`,
    });
  }
  if (!inputs.stack) {
    for (const flow of model.flows.filter((f) => f.active && f.location.scope === 'global')) {
      findings.push({ rule: 'metadata-outside-country', severity: 'medium', title: `${flow.label} is held outside ${model.country ?? 'the country'}`, evidence: flow.location.basis, where: where(flow), flowId: flow.id });
    }
  }
  return findings;
}

/** A Local Zone keeps hosts in the country; its control plane is in the parent region. Say so. */
export function checkLocalZoneCaveats(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const zone = localZoneOf(model);
  if (!zone) return [];
  const accepted = inputs.config?.config.deployment?.acceptParentRegionControlPlane === true;
  const inParent = model.flows.filter((f) => f.active && f.location.place.startsWith(zone.parentRegion) && !f.personalData).map((f) => f.label);
  return [
    {
      rule: 'local-zone-parent-region',
      severity: accepted ? 'low' : 'medium',
      title: `Local Zone ${zone.zone}: control plane and keys are in ${zone.parentRegion} (${zone.parentCountry})`,
      evidence: `hosts and volumes stay in ${zone.country}; API calls, instance metadata (names, tags, user-data), security-group rules, EBS encryption keys, SSM parameters and EC2 metrics are held in ${zone.parentRegion}${inParent.length ? ` — seen: ${inParent.join(', ')}` : ''}. ${accepted ? 'Accepted by deployment.acceptParentRegionControlPlane.' : 'Not accepted in config: set deployment.acceptParentRegionControlPlane: true if this is known and accepted.'}`,
      where: inputs.config ? `${inputs.config.source} deployment.placement` : (inputs.stack?.source ?? 'derived'),
    },
  ];
}

/** Resources that copy data to other regions (replication, multi-Region keys, snapshot copies). */
export function checkCrossRegionCopies(inputs: AuditInputs): Finding[] {
  const findings: Finding[] = [];
  for (const r of inputs.stack?.export.resources ?? []) {
    const forbidden = REPLICATION_TYPES.has(r.type) || r.type === 'aws:dlm/lifecyclePolicy:LifecyclePolicy' && JSON.stringify(r.inputs).includes('crossRegionCopy');
    const multiRegionKey = r.type === 'aws:kms/key:Key' && (r.inputs.multiRegion === true || r.outputs.multiRegion === true);
    const inlineReplication = (r.type === 'aws:s3/bucket:Bucket' || r.type === 'aws:s3/bucketV2:BucketV2') && r.inputs.replicationConfiguration !== undefined;
    if (!forbidden && !multiRegionKey && !inlineReplication) continue;
    findings.push({
      rule: 'cross-region-copy',
      severity: 'high',
      title: `${r.name} copies data out of its region`,
      evidence: multiRegionKey ? 'KMS key with multiRegion: true (replicas can exist in any region)' : inlineReplication ? 'bucket with a replicationConfiguration' : `${r.type} replicates or copies across regions`,
      where: `${inputs.stack!.source}: ${r.urn}`,
    });
  }
  return findings;
}

/** Resources created with the default provider go wherever the operator's shell points. */
export function checkUnpinnedProvider(inputs: AuditInputs): Finding[] {
  const unpinned = (inputs.stack?.export.resources ?? []).filter((r) => r.type.startsWith('aws:') && !r.providerUrn);
  if (unpinned.length === 0) return [];
  return [
    {
      rule: 'default-provider',
      severity: 'medium',
      title: `${unpinned.length} AWS resource(s) use the default provider (region from the environment)`,
      evidence: unpinned.slice(0, 5).map((r) => `${r.type} ${r.name}`).join(', '),
      where: inputs.stack!.source,
    },
  ];
}

function localZoneOf(model: DataFlowModel): { zone: string; parentRegion: string; parentCountry: string; country: string } | undefined {
  const media = model.flows.find((f) => f.kind === 'media');
  const zone = media?.location.scope === 'zone' ? media.location.place.split(' ')[0] : undefined;
  const parent = localZoneParent(zone);
  return parent && zone ? { zone, ...parent } : undefined;
}
