// Residency checks: is every flow in the country, and is everything that is not said out loud?
import type { ViolationRule } from '../../config/residency/index.js';
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

const ACCEPT_PARENT = 'deployment.acceptParentRegionControlPlane';

/**
 * Any flow whose derived location is in another country: high whatever it carries, since data at
 * rest is personal until proven otherwise. Only certificate issuance and software updates (which
 * send a hostname or download code) are low; control metadata in an accepted Local Zone parent region
 * is an accepted exception.
 */
export function checkFlowsOutsideCountry(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  if (!model.country) return [];
  const findings: Finding[] = [];
  const zone = localZoneOf(model);
  const accepted = inputs.config?.config.deployment?.acceptParentRegionControlPlane === true;
  for (const flow of model.flows) {
    const c = flow.location.country;
    if (!flow.active || c === null || c === model.country) continue;
    if (flow.location.scope === 'global' || flow.kind === 'third-party') continue; // their own rules
    const evidence = `${flow.location.place}; derived from ${flow.location.basis}${flow.caveat ? ` (${flow.caveat})` : ''}`;
    const base = { rule: 'flow-outside-country', title: `${flow.label} is in ${c}, not ${model.country}`, evidence, where: where(flow), flowId: flow.id };
    if (zone && flow.location.place.startsWith(zone.parentRegion) && !flow.personalData) {
      findings.push(accepted ? { ...base, severity: 'low', title: `${flow.label} is in ${c} (Local Zone parent region), accepted`, accepted: { key: ACCEPT_PARENT } } : { ...base, severity: 'high' });
      continue;
    }
    const severity: Severity = flow.kind === 'tls-issuance' || flow.kind === 'software-updates' ? 'low' : 'high';
    findings.push({ ...base, severity });
  }
  return findings;
}

/** Flows whose location cannot be derived from any input: high, except what the inputs cannot say by nature. */
export function checkLocationsUnknown(_inputs: AuditInputs, model: DataFlowModel): Finding[] {
  return model.flows
    .filter((f) => f.active && (f.location.scope === 'unknown' || (f.location.scope === 'third-party' && f.location.country === null && f.kind !== 'third-party')))
    .map((flow) => ({
      rule: 'location-unknown',
      // DNS, update mirrors and the university's own IdP are outside what any input describes; the
      // Pulumi backend is named only by --state-url (the coverage note asks for it).
      severity: (flow.kind === 'dns' || flow.kind === 'software-updates' || (flow.kind === 'sign-in' && flow.location.scope === 'unknown') ? 'info' : flow.kind === 'pulumi-state' && flow.location.scope === 'unknown' ? 'medium' : 'high') as Severity,
      title: `Cannot tell where ${flow.label} is`,
      evidence: flow.location.basis,
      where: where(flow),
      flowId: flow.id,
    }));
}

// Shared-classification violations -> audit rules. Global services have their own check below.
const RESOURCE_RULES: Record<Exclude<ViolationRule, 'global-service' | 'parent-region-control-plane' | 'default-provider'>, string> = {
  'not-classified': 'resource-not-classified',
  'location-not-established': 'location-not-established',
  'outside-country': 'resource-outside-country',
  'zone-outside-country': 'resource-outside-country',
  'provider-outside-country': 'resource-outside-country',
  'copies-outside-country': 'cross-region-copy',
  'copy-target-unknown': 'cross-region-copy',
  'multi-region-key': 'cross-region-copy',
  'region-override': 'region-override',
};

/**
 * Every resource of the stack, of every provider package, through the classification the policy pack
 * uses: not classified, not placed, outside the country, or copying out of it, is high.
 */
export function checkResources(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  if (!inputs.stack || !model.country) return [];
  const findings: Finding[] = [];
  const unpinned: string[] = [];
  const acceptedHere: string[] = [];
  for (const r of model.resources) {
    for (const v of r.violations) {
      if (v.rule === 'global-service') continue;
      if (v.rule === 'default-provider') {
        unpinned.push(`${r.type} ${r.name}`);
        continue;
      }
      if (v.rule === 'parent-region-control-plane') {
        if (v.accepted) acceptedHere.push(`${r.name} (${v.message})`);
        else findings.push({ rule: 'resource-outside-country', severity: 'high', title: `${r.name}: control-plane metadata outside ${model.country}, not accepted`, evidence: `${v.message}; set ${ACCEPT_PARENT}: true only if this is known and accepted`, where: `${inputs.stack.source}: ${r.urn}` });
        continue;
      }
      const rule = RESOURCE_RULES[v.rule];
      const title = rule === 'resource-not-classified'
        ? `${r.type} is not classified for residency`
        : rule === 'location-not-established'
          ? `${r.name}: location not established`
          : rule === 'cross-region-copy'
            ? `${r.name} copies data out of ${model.country}`
            : rule === 'region-override'
              ? `${r.name} overrides its provider's region`
              : `${r.name} is outside ${model.country}`;
      findings.push({ rule, severity: 'high', title, evidence: `${r.type}: ${v.message}`, where: `${inputs.stack.source}: ${r.urn}` });
    }
  }
  if (unpinned.length > 0) {
    findings.push({
      rule: 'default-provider',
      severity: 'high',
      title: `${unpinned.length} resource(s) use a default provider (region from the environment of whoever runs pulumi)`,
      evidence: `${unpinned.slice(0, 5).join(', ')}${unpinned.length > 5 ? ` (+${unpinned.length - 5})` : ''}; pin one explicit provider and set pulumi:disable-default-providers`,
      where: inputs.stack.source,
    });
  }
  if (acceptedHere.length > 0 && !localZoneOf(model)) {
    findings.push({ rule: 'local-zone-parent-region', severity: 'low', title: `${acceptedHere.length} resource(s) keep control-plane metadata in a Local Zone parent region, accepted`, evidence: acceptedHere.join('; '), where: inputs.stack.source, accepted: { key: ACCEPT_PARENT } });
  }
  return findings;
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
      // IAM is unavoidable for a host role and holds names and policies only (the pack allows it);
      // every other global service is refused by the pack, so it is high here too.
      severity: service === 'IAM' ? 'medium' : 'high',
      title: cdn ? `${service} serves and caches content at edge locations worldwide` : `${service} metadata is held outside ${model.country ?? 'the country'}`,
      evidence: `${resources.map((r) => `${r.type.split(':').pop()} "${r.name}"`).join(', ')}: ${service} is a global AWS service (control plane in us-east-1); names, tags${service === 'Route 53' ? ', DNS records' : ''} and policies leave the country — keep personal data out of them`,
      where: `${inputs.stack!.source}: ${resources[0]!.urn}${resources.length > 1 ? ` (+${resources.length - 1})` : ''}`,
    });
  }
  if (!inputs.stack) {
    for (const flow of model.flows.filter((f) => f.active && f.location.scope === 'global')) {
      findings.push({ rule: 'metadata-outside-country', severity: flow.label.startsWith('IAM') ? 'medium' : 'high', title: `${flow.label} is held outside ${model.country ?? 'the country'}`, evidence: flow.location.basis, where: where(flow), flowId: flow.id });
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
      severity: accepted ? 'low' : 'high',
      ...(accepted ? { accepted: { key: ACCEPT_PARENT } } : {}),
      title: `Local Zone ${zone.zone}: control plane and keys are in ${zone.parentRegion} (${zone.parentCountry})`,
      evidence: `hosts and volumes stay in ${zone.country}; API calls, instance metadata (names, tags, user-data), security-group rules, EBS encryption keys, SSM parameters and EC2 metrics are held in ${zone.parentRegion}${inParent.length ? ` — seen: ${inParent.join(', ')}` : ''}. ${accepted ? 'Accepted by deployment.acceptParentRegionControlPlane.' : 'Not accepted in config: set deployment.acceptParentRegionControlPlane: true if this is known and accepted.'}`,
      where: inputs.config ? `${inputs.config.source} deployment.placement` : (inputs.stack?.source ?? 'derived'),
    },
  ];
}

function localZoneOf(model: DataFlowModel): { zone: string; parentRegion: string; parentCountry: string; country: string } | undefined {
  const media = model.flows.find((f) => f.kind === 'media');
  const zone = media?.location.scope === 'zone' ? media.location.place.split(' ')[0] : undefined;
  const parent = localZoneParent(zone);
  return parent && zone ? { zone, ...parent } : undefined;
}
