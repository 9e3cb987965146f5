// Jurisdiction: whose law binds the operator of each flow. With deployment.jurisdiction 'operator', a
// flow run by someone bound by another country's law is high, even when its data sits in the country.
import { foreignOperators } from '../model/jurisdiction.js';
import type { AuditInputs, DataFlowModel, Finding } from '../model/types.js';

/** One finding per operator not bound only by the country's law: high under 'operator', info under 'location'. */
export function checkJurisdiction(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  if (!model.country) return [];
  const strict = model.jurisdiction === 'operator';
  const where = inputs.config ? `${inputs.config.source} deployment.jurisdiction` : 'derived';
  return foreignOperators(model.country, model.flows).map((op) => ({
    rule: 'operator-jurisdiction',
    severity: strict ? ('high' as const) : ('info' as const),
    title: op.jurisdiction
      ? `${op.name} operates ${op.flows.length} flow(s) and is bound by ${op.jurisdiction} law, not only ${model.country}'s`
      : `Who operates ${op.flows.length} flow(s), and under which law, is not established`,
    evidence: `${op.flows.map((f) => `${f.label} (${f.location.country ?? '??'})`).join(', ')}; ${op.flows[0]!.operator.basis}${strict ? '' : `. deployment.jurisdiction is 'location': reported, not failed`}`,
    where,
  }));
}
