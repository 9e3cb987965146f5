// What the operators' jurisdictions mean for a deployment, in plain words. A region in the country
// keeps data there; it does not make the company running the region answer only to the country's law.
import type { Flow } from './types.js';

/** Operators of active flows bound by another country's law (or by a law not established), grouped. */
export function foreignOperators(country: string | null, flows: readonly Flow[]): Array<{ name: string; jurisdiction: string | null; flows: Flow[] }> {
  const byOperator = new Map<string, { name: string; jurisdiction: string | null; flows: Flow[] }>();
  for (const flow of flows) {
    if (!flow.active || (country !== null && flow.operator.jurisdiction === country)) continue;
    const key = `${flow.operator.name}|${flow.operator.jurisdiction}`;
    if (!byOperator.has(key)) byOperator.set(key, { name: flow.operator.name, jurisdiction: flow.operator.jurisdiction, flows: [] });
    byOperator.get(key)!.flows.push(flow);
  }
  return [...byOperator.values()];
}

/** The plain statement the reports print; null when every operator answers to the country's law. */
export function jurisdictionNote(country: string | null, mode: 'location' | 'operator', flows: readonly Flow[]): string | null {
  if (!country) return null;
  const foreign = foreignOperators(country, flows);
  if (foreign.length === 0) return null;
  const aws = foreign.find((o) => o.name === 'Amazon Web Services, Inc.');
  const parts: string[] = [];
  if (aws) {
    parts.push(
      `This deployment runs on AWS. Amazon Web Services, Inc. is a US company: US law (the CLOUD Act) can require it to hand over data it holds in any region, ${country} included. ` +
        `Keeping data in ${country} puts it under ${country}'s law, but not under ${country}'s law only.`,
    );
    parts.push(
      mode === 'operator'
        ? `deployment.jurisdiction is 'operator', so every flow AWS runs (${aws.flows.length}) is a finding: an AWS deployment cannot pass this test. Use servers the university runs, or a provider bound only by ${country}'s law.`
        : `deployment.jurisdiction is 'location' (the default): flows are judged by where the data is. Set it to 'operator' to require operators bound only by ${country}'s law; an AWS deployment then fails.`,
    );
  }
  const others = foreign.filter((o) => o !== aws);
  if (others.length > 0) {
    parts.push(`Other operators not bound only by ${country}'s law: ${others.map((o) => `${o.name} (${o.jurisdiction ?? 'jurisdiction not established'}: ${o.flows.map((f) => f.label).join(', ')})`).join('; ')}.`);
  }
  return parts.join(' ');
}
