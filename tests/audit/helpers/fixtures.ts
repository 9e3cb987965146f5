// Fixture inputs: `clean` and `leaky` are complete; a defect folder holds only what differs from clean:
// lectern.patch.json / runtime.patch.json (deep-merged), stack.resources.json (merged by URN, or
// {urn, remove: true}), client/ files (replacing clean's), state-url.txt, inputs.json {omit: [...]}.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuditConfig } from '../../../audit/sources/configFile.js';
import { parseStackExport } from '../../../audit/sources/stackExport.js';
import { scanClientBundle } from '../../../audit/sources/clientBundle.js';
import type { AuditInputs } from '../../../audit/model/types.js';
import type { AdminRuntime } from '../../../audit/sources/adminRuntime.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** Inputs for a complete fixture folder (`clean`, `leaky`). */
export function completeFixture(name: string, omit: string[] = []): AuditInputs {
  const dir = join(FIXTURES, name);
  const inputs: AuditInputs = {};
  if (!omit.includes('config')) inputs.config = parseAuditConfig(json(join(dir, 'lectern.json')), `${name}/lectern.json`);
  if (!omit.includes('stack')) inputs.stack = { source: `${name}/stack.json`, export: parseStackExport(json(join(dir, 'stack.json'))) };
  if (!omit.includes('runtime')) inputs.runtime = { source: `${name}/runtime.json`, runtime: json(join(dir, 'runtime.json')) as AdminRuntime, pageHeaders: null };
  if (!omit.includes('bundle')) inputs.bundle = scanClientBundle(join(dir, 'client'));
  if (!omit.includes('state')) inputs.stateUrl = 's3://lectern-state-se?region=eu-north-1';
  return inputs;
}

/** Inputs for `defects/<name>`: clean with that defect applied. */
export function defectFixture(name: string): AuditInputs {
  const dir = join(FIXTURES, 'defects', name);
  const at = (file: string): string => join(dir, file);
  const omit = existsSync(at('inputs.json')) ? ((json(at('inputs.json')) as { omit: string[] }).omit ?? []) : [];
  const clean = join(FIXTURES, 'clean');
  const inputs: AuditInputs = {};
  if (!omit.includes('config')) {
    let config = json(join(clean, 'lectern.json'));
    if (existsSync(at('lectern.patch.json'))) config = merge(config, json(at('lectern.patch.json')), true);
    inputs.config = parseAuditConfig(config, `defects/${name}/lectern.json`);
  }
  if (!omit.includes('stack')) {
    const stack = json(join(clean, 'stack.json')) as { deployment: { resources: Array<{ urn: string; remove?: boolean }> } };
    if (existsSync(at('stack.resources.json'))) {
      for (const r of json(at('stack.resources.json')) as Array<{ urn: string; remove?: boolean }>) {
        const list = stack.deployment.resources;
        const i = list.findIndex((x) => x.urn === r.urn);
        if (r.remove) list.splice(i, 1);
        else if (i >= 0) list[i] = r;
        else list.push(r);
      }
    }
    inputs.stack = { source: `defects/${name}/stack.json`, export: parseStackExport(stack) };
  }
  if (!omit.includes('runtime')) {
    let runtime = json(join(clean, 'runtime.json'));
    if (existsSync(at('runtime.patch.json'))) runtime = merge(runtime, json(at('runtime.patch.json')), false);
    inputs.runtime = { source: `defects/${name}/runtime.json`, runtime: runtime as AdminRuntime, pageHeaders: null };
  }
  if (!omit.includes('bundle')) {
    const base = scanClientBundle(join(clean, 'client'));
    if (existsSync(at('client'))) {
      const over = scanClientBundle(at('client'));
      base.references = [...base.references.filter((r) => !over.files.includes(r.file)), ...over.references];
      base.dir = `defects/${name}/client`;
    }
    inputs.bundle = base;
  }
  inputs.stateUrl = existsSync(at('state-url.txt')) ? readFileSync(at('state-url.txt'), 'utf8').trim() : 's3://lectern-state-se?region=eu-north-1';
  return inputs;
}

/** Deep merge; arrays are replaced; null deletes a key when `nullDeletes`, else sets null. */
function merge(base: unknown, patch: unknown, nullDeletes: boolean): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch) || typeof base !== 'object' || base === null || Array.isArray(base)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null && nullDeletes) delete out[k];
    else out[k] = merge(out[k], v, nullDeletes);
  }
  return out;
}
