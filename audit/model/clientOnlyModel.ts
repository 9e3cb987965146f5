// The model when the only input is a built client: it says nothing about where a server runs, so
// no server flow is invented (each would be "location unknown" and a clean bundle could never
// pass). What the client itself would contact beyond its own origin is still a flow, and a finding.
import { thirdPartyLocation, thirdPartyOperator } from './places.js';
import type { AuditInputs, DataFlowModel, Flow } from './types.js';

/** True when the inputs describe no server: no config, stack export, live server or state backend. */
export function isClientOnly(inputs: AuditInputs): boolean {
  return !!inputs.bundle && !inputs.config && !inputs.configProblems && !inputs.stack && !inputs.runtime && !inputs.stateUrl;
}

/** A model of the client alone: its own origin is the only place it may reach. */
export function clientOnlyModel(inputs: AuditInputs): DataFlowModel {
  const flows: Flow[] = [];
  const seen = new Set<string>();
  for (const ref of inputs.bundle?.references ?? []) {
    if (seen.has(ref.host)) continue;
    seen.add(ref.host);
    flows.push({
      id: `third-party:Client contacts ${ref.host}`,
      kind: 'third-party',
      label: `Client contacts ${ref.host}`,
      location: thirdPartyLocation(ref.host, `${ref.url} in the built client`),
      operator: thirdPartyOperator(ref.host),
      readers: 'the operator of that host sees every participant’s IP address and browser',
      encryption: /^(https|wss):/i.test(ref.url) ? 'TLS' : 'none',
      retention: 'unknown',
      personalData: true,
      seenIn: [`client bundle ${inputs.bundle!.dir}`],
      active: true,
    });
  }
  return { country: null, countrySource: null, ownHosts: [], ownDomain: null, flows, hosts: [], resources: [], jurisdiction: 'location', jurisdictionNote: null };
}
