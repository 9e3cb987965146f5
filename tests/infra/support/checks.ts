// Assertions every example stack must pass, on the recorded graph.
import { expect } from 'vitest';
import { residencyResourcePolicies, residencyStackPolicies } from '../../../infra/residency/policies.js';
import { TURN_SECRET, stackViolations, violations, type Invoked, type PackConfig, type Recorded } from './harness.js';

// Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts specialSigKey / specialSecretSig).
const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** Every AWS resource and invoke uses the one explicit provider, pinned to `region`. */
export function expectPinnedProvider(resources: Recorded[], invokes: Invoked[], region: string): void {
  const providers = resources.filter((r) => r.type === 'pulumi:providers:aws');
  expect(providers.map((p) => [p.name, p.inputs.region])).toEqual([['lectern-aws', region]]);
  const pinned = providers[0]!;
  for (const r of resources.filter((x) => x.type.startsWith('aws:'))) {
    expect(r.provider, `${r.type} ${r.name}`).toBe(`${pinned.urn}::${pinned.id}`);
    expect(r.inputs.region, `${r.type} ${r.name} region override`).toBeUndefined();
  }
  expect(invokes.length).toBeGreaterThan(0);
  for (const call of invokes) expect(call.provider, call.token).toBe(`${pinned.urn}::${pinned.id}`);
}

/** The secret appears nowhere in plain text: not in user-data, not in any input but the SSM parameter. */
export function expectNoPlainSecret(resources: Recorded[]): void {
  for (const r of resources) {
    const text = JSON.stringify(r.inputs);
    if (r.type === 'aws:ssm/parameter:Parameter') continue;
    expect(text.includes(TURN_SECRET), `${r.type} ${r.name} leaks the TURN secret`).toBe(false);
  }
  const parameter = resources.find((r) => r.type === 'aws:ssm/parameter:Parameter')!;
  expect(parameter.inputs.type).toBe('SecureString');
  // Reaches the parameter only as a Pulumi secret (encrypted in state), never as a plain string.
  expect(parameter.inputs.value).toEqual({ [SECRET_SIG_KEY]: SECRET_SIG, value: TURN_SECRET });
}

/** Ingress rules of a security group, normalised for comparison. */
export function ingressOf(group: Recorded): string[] {
  return (group.inputs.ingress as Array<{ protocol: string; fromPort: number; toPort: number; cidrBlocks: string[] }>)
    .map((r) => `${r.protocol} ${r.fromPort}-${r.toPort} from ${r.cidrBlocks.join(',')}`)
    .sort();
}

/** The real graph passes every residency rule. */
export async function expectPoliciesPass(resources: Recorded[], country: PackConfig): Promise<void> {
  for (const policy of residencyResourcePolicies) expect(await violations(policy, resources, country), policy.name).toEqual([]);
  for (const policy of residencyStackPolicies) expect(await stackViolations(policy, resources, country), policy.name).toEqual([]);
}

/** Count of resources by type, for the per-stack inventory. */
export function inventory(resources: Recorded[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

/** The user-data of the instance with this logical name. */
export function userDataOf(resources: Recorded[], name: string): string {
  const instance = resources.find((r) => r.type === 'aws:ec2/instance:Instance' && r.name === name);
  expect(instance, name).toBeDefined();
  return String(instance!.inputs.userData);
}

/** Parse the JSON body of a `#cloud-config` document. */
export function cloudConfig(userData: string): { packages: string[]; write_files: Array<{ path: string; content: string }>; runcmd: string[][] } {
  expect(userData.startsWith('#cloud-config\n')).toBe(true);
  return JSON.parse(userData.slice('#cloud-config\n'.length));
}
