// Offline harness: loads an example stack file, runs the Pulumi program under mocks, records every
// resource (type, name, inputs, provider) and every invoke, and turns the graph into policy inputs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { load } from 'js-yaml';
import { vi } from 'vitest';
import type { PolicyResource, PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One registered resource as the engine would see it. */
export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  provider: string;
  id: string;
  urn: string;
  /** The ARN the mock answered with. */
  arn?: string;
}

/** One provider function call. */
export interface Invoked {
  token: string;
  inputs: Record<string, any>;
  provider: string | undefined;
}

/** The TURN credential the tests configure; it must never appear in plain text anywhere. */
export const TURN_SECRET = 'turn-secret-7f3a9c41d2e8b6055e1c';
/** The Redis AUTH token the tests configure (a cluster stack); it must never appear in plain text either. */
export const REDIS_TOKEN = 'redis-token-4b9e2d71c0a8f3356e12';
export const CLUSTER_SECRET = 'cluster-secret-7d1f0a93be62c45e8817aa09f3c2d6b5';

/** Flatten a Pulumi.<stack>.yaml `config:` block into the runtime's map ("ns:key" -> string/JSON). */
export function stackConfig(file: string, extra: Record<string, unknown> = {}): Record<string, string> {
  const doc = load(readFileSync(`${ROOT}${file}`, 'utf8')) as { config: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...doc.config, ...extra })) {
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

/**
 * Which instance types EC2 offers where, as DescribeInstanceTypeOfferings answers it: the zones
 * the example stacks use, abridged to the families Lectern's hosts pick from. Regions' zones offer
 * the common families in many sizes; a Local Zone offers a few (Copenhagen: C5, M5, R5, T3 in
 * some sizes), which is why the program asks before it places a host.
 */
export const INSTANCE_TYPE_OFFERINGS: Readonly<Record<string, readonly string[]>> = {
  'eu-central-1a': ['t3.small', 't3.medium', 't3.large', 't3.xlarge', 'c5.large', 'c5.xlarge', 'c5.2xlarge', 'c5.4xlarge', 'c6i.large', 'c6i.xlarge', 'c6i.2xlarge', 'c6i.4xlarge', 'm5.xlarge', 'm6i.xlarge', 'r5.xlarge'],
  // The German cluster stack spreads its nodes over Frankfurt's three zones.
  'eu-central-1b': ['t3.small', 't3.medium', 't3.large', 'c5.large', 'c5.xlarge', 'c5.2xlarge', 'c6i.large', 'c6i.xlarge', 'c6i.2xlarge', 'm5.xlarge', 'm6i.xlarge'],
  'eu-central-1c': ['t3.small', 't3.medium', 't3.large', 'c5.large', 'c5.xlarge', 'c5.2xlarge', 'c6i.large', 'c6i.xlarge', 'm5.xlarge'],
  'eu-central-1-ham-1a': ['t3.medium', 't3.xlarge', 'c5.2xlarge', 'c5.4xlarge', 'm5.2xlarge', 'r5.2xlarge'],
  'ca-west-1a': ['t3.micro', 't3.small', 't3.medium', 't3.large', 'c6i.large', 'c6i.xlarge', 'c6i.2xlarge', 'c6i.4xlarge', 'm6i.xlarge', 'r6i.xlarge'],
  'eu-north-1-cph-1a': ['t3.medium', 't3.xlarge', 'c5.xlarge', 'c5.2xlarge', 'c5.4xlarge', 'm5.2xlarge', 'r5.2xlarge'],
};

/** What EC2 answers for an offerings query: the offered pairs matching every filter (values are alternatives, `*` a wildcard). */
function describeInstanceTypeOfferings(inputs: Record<string, any>): Record<string, unknown> {
  if ((inputs.locationType ?? 'region') !== 'availability-zone') throw new Error(`offerings mock: only availability-zone offerings are tabled, not ${inputs.locationType}`);
  const filters = (inputs.filters ?? []) as Array<{ name: string; values: string[] }>;
  const literal = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map(literal).join('.*')}$`);
  const matches = (name: string, value: string) => filters.filter((f) => f.name === name).every((f) => f.values.some((v) => glob(v).test(value)));
  for (const f of filters) if (f.name !== 'location' && f.name !== 'instance-type') throw new Error(`offerings mock: filter ${f.name} is not tabled`);
  const offered = Object.entries(INSTANCE_TYPE_OFFERINGS).flatMap(([location, types]) => types.map((type) => ({ location, type })));
  const found = offered.filter((o) => matches('location', o.location) && matches('instance-type', o.type));
  return { instanceTypes: found.map((o) => o.type), locations: found.map((o) => o.location), locationTypes: found.map(() => 'availability-zone'), id: 'offerings' };
}

/** The program failed, as `pulumi preview` would report it: every distinct error it raised. */
export class ProgramError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(`the Pulumi program failed:\n${errors.join('\n')}`);
    this.name = 'ProgramError';
  }
}

let counter = 0;
// Distinct per address in a run (a cluster has four; two hosts sharing one would hide a wrong peer).
const ipFor = (_name: string): string => `203.0.113.${10 + (counter++ % 240)}`;

/** Install mocks and config, import the program, wait for every registration. */
export async function runProgram(config: Record<string, string>, project = 'lectern', stack = 'example'): Promise<{
  resources: Recorded[];
  invokes: Invoked[];
  outputs: Record<string, unknown>;
}> {
  const resources: Recorded[] = [];
  const invokes: Invoked[] = [];
  // A test may give its own Redis token (to see a bad one refused); the TURN secret is always this one.
  pulumi.runtime.setAllConfig({ 'lectern:redisAuthToken': REDIS_TOKEN, 'lectern:clusterSecret': CLUSTER_SECRET, ...config, 'lectern:turnCredential': TURN_SECRET }, ['lectern:turnCredential', 'lectern:redisAuthToken', 'lectern:clusterSecret']);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = `${args.name}-id`;
        const urn = `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`;
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider ?? '', id, urn });
        const state: Record<string, unknown> = { ...args.inputs, arn: `arn:aws:mock:::${args.name}` };
        if (args.type === 'aws:ec2/eip:Eip') Object.assign(state, { publicIp: ipFor(args.name), allocationId: `eipalloc-${args.name}` });
        if (args.type === 'aws:s3/bucket:Bucket') state.bucket = `${args.name}-bucket`;
        if (args.type === 'aws:kms/key:Key') {
          state.keyId = `${args.name}-key-id`;
          // As KMS answers: an ARN in the region of the key's provider (the server config checks it).
          const provider = resources.find((r) => r.type === 'pulumi:providers:aws' && args.provider?.startsWith(`${r.urn}::`));
          const region = typeof provider?.inputs.region === 'string' ? provider.inputs.region : 'unknown-region-0';
          state.arn = `arn:aws:kms:${region}:123456789012:key/${args.inputs.multiRegion === true ? 'mrk-' : ''}0000${String(counter++).padStart(4, '0')}-1111-4222-8333-444455556666`;
        }
        if (args.type === 'aws:elasticache/replicationGroup:ReplicationGroup') state.primaryEndpointAddress = `master.${args.name}.abc123.euc1.cache.amazonaws.com`;
        resources.at(-1)!.arn = String(state.arn);
        // A real-looking EBS id (the host's mount script builds its NVMe device name from it); one per volume.
        if (args.type === 'aws:ebs/volume:Volume') return { id: args.name === 'lectern-store-data' ? 'vol-0123456789abcdef0' : `vol-0${createHash('sha256').update(args.name).digest('hex').slice(0, 16)}`, state };
        if (state.name === undefined) state.name = `${args.name}-name`;
        return { id, state };
      },
      call(args) {
        invokes.push({ token: args.token, inputs: args.inputs, provider: args.provider });
        switch (args.token) {
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return { accountId: '123456789012', arn: 'arn:aws:iam::123456789012:user/ci', userId: 'ci', id: '123456789012' };
          case 'aws:ec2/getAmi:getAmi':
            return { id: 'ami-0ubuntu2404', name: 'ubuntu-noble-24.04' };
          case 'aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings':
            return describeInstanceTypeOfferings(args.inputs);
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    project,
    stack,
    false,
  );
  // An error raised while a resource's inputs resolve (an apply that throws, as Host does for an
  // instance type the zone does not offer) reaches Pulumi's language host as an unhandled
  // rejection, and the host fails the program. Do the same while the program runs, instead of
  // leaving it to vitest as a stray error.
  const errors: string[] = [];
  let fail: (error: ProgramError) => void = () => undefined;
  const failure = new Promise<never>((_resolve, reject) => (fail = reject));
  failure.catch(() => undefined);
  const onRejection = (reason: unknown): void => {
    errors.push(reason instanceof Error ? reason.message : String(reason));
    fail(new ProgramError(errors));
  };
  const others = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onRejection);
  const outputs: Record<string, unknown> = {};
  try {
    // Each run evaluates the program afresh, as each `pulumi preview` does.
    vi.resetModules();
    const program = (await import('../../../infra/index.js')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(program)) outputs[key] = await Promise.race([resolve(value), failure]);
    await settle(() => resources.length);
  } catch (error) {
    if (!(error instanceof ProgramError)) throw error;
    await settle(() => errors.length);
  } finally {
    process.off('unhandledRejection', onRejection);
    for (const listener of others) process.on('unhandledRejection', listener);
  }
  if (errors.length > 0) throw new ProgramError([...new Set(errors)]);
  return { resources, invokes, outputs };
}

/** Resolve an Output (or plain value) with a timeout: unknowns never resolve. */
export function resolve<T>(value: pulumi.Input<T> | T, timeoutMs = 5000): Promise<T> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value as T);
  return new Promise<T>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('output did not resolve')), timeoutMs);
    (value as pulumi.Output<T>).apply((v) => {
      clearTimeout(timer);
      ok(v);
      return v;
    });
  });
}

/** Registrations finish asynchronously: wait until the count stops changing. */
async function settle(count: () => number): Promise<void> {
  let last = -1;
  for (let stable = 0; stable < 5; ) {
    await new Promise((r) => setTimeout(r, 40));
    const now = count();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

/** The provider resource a recorded resource points at ("urn::id"), if any. */
export function providerOf(resource: Recorded, graph: readonly Recorded[]): Recorded | undefined {
  if (!resource.provider) return undefined;
  const urn = resource.provider.split('::').slice(0, -1).join('::');
  return graph.find((r) => r.urn === urn || resource.provider.endsWith(`::${r.id}`) && resource.provider.startsWith(r.urn));
}

/** The pack config a test runs the policies with: a country, or the whole config. */
export type PackConfig = string | { country: string; acceptParentRegionControlPlane?: boolean };
const packConfig = (config: PackConfig): object => (typeof config === 'string' ? { country: config } : config);

/** The engine's view of a resource, as a policy receives it. */
export function policyArgs(resource: Recorded, graph: readonly Recorded[], country: PackConfig): ResourceValidationArgs {
  const provider = providerOf(resource, graph);
  return {
    type: resource.type,
    props: resource.inputs,
    urn: resource.urn,
    name: resource.name,
    opts: OPTS,
    provider: provider && { type: provider.type, props: provider.inputs, urn: provider.urn, name: provider.name },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => packConfig(country) as T,
    notApplicable,
  };
}

const OPTS: PolicyResourceOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

function notApplicable(reason?: string): never {
  throw new Error(`not applicable: ${reason ?? ''}`);
}

/** Run one resource policy over a graph; returns every violation message. */
export async function violations(policy: ResourceValidationPolicy, graph: readonly Recorded[], country: PackConfig): Promise<string[]> {
  const found: string[] = [];
  const validators = [policy.validateResource ?? []].flat();
  for (const resource of graph) {
    for (const validate of validators) await validate(policyArgs(resource, graph, country), (message) => found.push(message));
  }
  return found;
}

/** Run one stack policy; dependencies are what the engine derives from inputs naming another resource's id. */
export async function stackViolations(policy: StackValidationPolicy, graph: readonly Recorded[], country: PackConfig): Promise<string[]> {
  const byId = new Map<string, PolicyResource>();
  const resources: PolicyResource[] = graph.map((r) => {
    const resource: PolicyResource = {
      type: r.type,
      props: r.inputs,
      urn: r.urn,
      name: r.name,
      opts: OPTS,
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    };
    byId.set(r.id, resource);
    return resource;
  });
  graph.forEach((r, i) => {
    for (const [key, value] of Object.entries(r.inputs)) {
      const target = typeof value === 'string' ? byId.get(value) : undefined;
      if (!target) continue;
      resources[i]!.dependencies.push(target);
      (resources[i]!.propertyDependencies[key] ??= []).push(target);
    }
  });
  const found: string[] = [];
  await policy.validateStack!(
    { resources, getConfig: <T extends object>() => packConfig(country) as T, stackTags: new Map(), notApplicable },
    (message) => found.push(message),
  );
  return found;
}
