// Reading `pulumi stack export` output: resources with their types, inputs, outputs and the region
// of the provider that created them. Only the fields the audit uses are checked; Pulumi adds more.
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Bag = Type.Record(Type.String(), Type.Unknown());

const ResourceStateSchema = Type.Object({
  urn: Type.String(),
  type: Type.String(),
  custom: Type.Optional(Type.Boolean()),
  id: Type.Optional(Type.String()),
  inputs: Type.Optional(Bag),
  outputs: Type.Optional(Bag),
  parent: Type.Optional(Type.String()),
  provider: Type.Optional(Type.String()),
});

/** The part of a `pulumi stack export` file (version 3) the audit reads. */
export const StackExportSchema = Type.Object({
  version: Type.Integer(),
  deployment: Type.Object({
    manifest: Type.Optional(Bag),
    secrets_providers: Type.Optional(Type.Object({ type: Type.String(), state: Type.Optional(Type.Unknown()) })),
    resources: Type.Optional(Type.Array(ResourceStateSchema)),
  }),
});

type ResourceState = Static<typeof ResourceStateSchema>;

/** One resource of the stack, with its provider's region resolved. */
export interface StackResource {
  urn: string;
  type: string;
  /** Logical name (last URN segment). */
  name: string;
  id: string | undefined;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** URN of the provider it was created with (a default provider too: `...::pulumi:providers:aws::default_7_48_0`); undefined when none is recorded. */
  providerUrn: string | undefined;
  /** false for component resources (no cloud resource of their own); undefined when the export does not say. */
  custom: boolean | undefined;
  /** Region of the resource: its own `region` input (aws v7) or else its provider's; undefined when unknown. */
  region: string | undefined;
  /** Where `region` came from, for evidence. */
  regionSource: string;
}

/** A parsed stack export. */
export interface StackExport {
  resources: StackResource[];
  /** Outputs of the root `pulumi:pulumi:Stack` resource. */
  outputs: Record<string, unknown>;
  /** `passphrase`, `cloud` (KMS etc.), `service`, ... and, for cloud, the key URL. */
  secretsProvider: { type: string; url: string | undefined } | undefined;
}

/** Thrown when a file is not a usable stack export. */
export class StackExportError extends Error {
  override readonly name = 'StackExportError';
}

/** Read and parse a `pulumi stack export` JSON file. */
export function readStackExport(file: string): StackExport {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StackExportError(`${file}: not readable JSON (${(err as Error).message})`);
  }
  return parseStackExport(json, file);
}

/** Parse an in-memory stack export; throws StackExportError naming every problem. */
export function parseStackExport(json: unknown, source = 'stack export'): StackExport {
  if (!Value.Check(StackExportSchema, json)) {
    const problems = [...Value.Errors(StackExportSchema, json)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new StackExportError(`${source}: not a pulumi stack export (${problems.join('; ')})`);
  }
  const states = json.deployment.resources ?? [];
  const providers = new Map<string, ResourceState>();
  for (const state of states) if (state.type.startsWith('pulumi:providers:')) providers.set(state.urn, state);

  const resources = states.map((state): StackResource => {
    const inputs = state.inputs ?? {};
    const outputs = state.outputs ?? {};
    const providerUrn = state.provider ? providerUrnOf(state.provider) : undefined;
    const provider = providerUrn ? providers.get(providerUrn) : undefined;
    const own = stringField(inputs, 'region') ?? stringField(outputs, 'region');
    const fromProvider = provider ? (stringField(provider.inputs ?? {}, 'region') ?? stringField(provider.outputs ?? {}, 'region')) : undefined;
    let region: string | undefined;
    let regionSource: string;
    if (state.type.startsWith('pulumi:providers:')) {
      region = own;
      regionSource = own ? `provider ${nameOf(state.urn)} region` : `provider ${nameOf(state.urn)} sets no region`;
    } else if (own) {
      region = own;
      regionSource = 'the resource’s own region argument';
    } else if (fromProvider) {
      region = fromProvider;
      regionSource = `provider ${nameOf(providerUrn!)}`;
    } else {
      region = undefined;
      regionSource = providerUrn ? `provider ${nameOf(providerUrn)} sets no region` : 'default provider (region from the operator’s environment)';
    }
    return { urn: state.urn, type: state.type, name: nameOf(state.urn), id: state.id, inputs, outputs, providerUrn, custom: state.custom, region, regionSource };
  });

  const stack = states.find((s) => s.type === 'pulumi:pulumi:Stack');
  const sp = json.deployment.secrets_providers;
  const spState = sp?.state as Record<string, unknown> | undefined;
  const secretsProvider = sp ? { type: sp.type, url: typeof spState?.url === 'string' ? spState.url : undefined } : undefined;
  return { resources, outputs: stack?.outputs ?? {}, secretsProvider };
}

/** A provider reference is `<provider urn>::<provider id>`. */
function providerUrnOf(reference: string): string {
  const cut = reference.lastIndexOf('::');
  return cut === -1 ? reference : reference.slice(0, cut);
}

/** Logical name of a URN (its last segment). */
export function nameOf(urn: string): string {
  const cut = urn.lastIndexOf('::');
  return cut === -1 ? urn : urn.slice(cut + 2);
}

function stringField(bag: Record<string, unknown>, key: string): string | undefined {
  const value = bag[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Is this value a Pulumi secret envelope (encrypted or plain) rather than a value? */
export function isSecretEnvelope(value: unknown): boolean {
  return typeof value === 'object' && value !== null && '4dabf18193072939515e22adb298388d' in value;
}
