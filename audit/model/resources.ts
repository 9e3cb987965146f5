// Every resource of a stack export, of every provider package, through the one residency
// classification (config/residency/classify.ts) that the policy pack also uses.
import {
  classifyResource,
  residencyViolations,
  type Classification,
  type ResidencyRules,
  type ResourceInput,
  type StackIndex,
  type Violation,
} from '../../config/residency/index.js';
import { nameOf, type StackExport, type StackResource } from '../sources/stackExport.js';

/** One resource of the stack: what it is, where, who operates it, and what is wrong with it. */
export interface ResourceFact {
  urn: string;
  type: string;
  name: string;
  classification: Classification;
  violations: Violation[];
}

/** The classification's view of a stack resource: inputs over outputs, with its provider's state. */
export function resourceInputOf(r: StackResource, providers: ReadonlyMap<string, StackResource>): ResourceInput {
  const provider = r.providerUrn ? providers.get(r.providerUrn) : undefined;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: { ...r.outputs, ...r.inputs },
    // A provider reference that names no provider in the export still says which one it was.
    provider: r.providerUrn
      ? { type: provider?.type ?? 'pulumi:providers:?', name: nameOf(r.providerUrn), urn: r.providerUrn, props: provider ? { ...provider.outputs, ...provider.inputs } : {} }
      : undefined,
    custom: r.custom,
  };
}

/** Classify every resource of the export under the deployment's rules (null country: no violations). */
export function resourceFacts(stack: StackExport, rules: ResidencyRules | null): ResourceFact[] {
  const providers = new Map(stack.resources.filter((r) => r.type.startsWith('pulumi:providers:')).map((r) => [r.urn, r]));
  const inputs = stack.resources.map((r) => resourceInputOf(r, providers));
  const byRef = new Map<string, ResourceInput>();
  stack.resources.forEach((r, i) => {
    for (const ref of [r.id, r.outputs.id, r.outputs.arn, r.outputs.bucket, r.inputs.bucket, r.outputs.keyId]) if (typeof ref === 'string' && ref) byRef.set(ref, inputs[i]!);
  });
  const index: StackIndex = { find: (ref) => byRef.get(ref), complete: true };
  return stack.resources.map((r, i) => {
    const classification = classifyResource(inputs[i]!, index);
    return { urn: r.urn, type: r.type, name: r.name, classification, violations: rules ? residencyViolations(classification, inputs[i]!, rules) : [] };
  });
}
