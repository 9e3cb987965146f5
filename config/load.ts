// Config is read once at start-up, in this order: schema defaults, then a JSON file, then
// LECTERN_* environment variables. The result is validated as a whole and passed down; nothing
// reads config at import time.
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import type { TObject, TSchema } from '@sinclair/typebox';
import { LecternConfigSchema, type LecternConfig } from './schema.js';

/** A configuration that cannot be used; `problems` lists every reason, one per line. */
export class ConfigError extends Error {
  /** One human-readable line per problem, each naming the key. */
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`invalid Lectern configuration (${source}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Environment variables that are not config keys but are still ours. */
// The install scripts' own settings (scripts/mediasoup-worker.sh) may stay exported in the same shell.
const NON_CONFIG_ENV = new Set(['LECTERN_CONFIG', 'LECTERN_CACHE_DIR', 'LECTERN_WORKER_FROM_SOURCE', 'LECTERN_PREBUILT_TIMEOUT', 'LECTERN_BUILD_JOBS']);

export interface LoadOptions {
  /** Path of a JSON config file; defaults to $LECTERN_CONFIG; none means defaults only. */
  file?: string | undefined;
  /** Environment to read LECTERN_* keys from; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/** Load defaults -> file -> environment, reject unknown keys, return the validated config. */
export function loadConfig(options: LoadOptions = {}): LecternConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.LECTERN_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) raw = readJsonFile(file);
  raw = mergeEnvironment(raw, env);
  return parseConfig(raw, file ? `file ${file} + environment` : 'environment');
}

/** Validate an in-memory config object (defaults applied); throws ConfigError listing every problem. */
export function parseConfig(input: unknown, source = 'object'): LecternConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(source, ['the configuration must be a JSON object']);
  }
  const withDefaults = Value.Default(LecternConfigSchema, structuredClone(input));
  const problems = [...Value.Errors(LecternConfigSchema, withDefaults)].map((e) =>
    e.path ? `${dotted(e.path)}: ${describe(e)}` : describe(e),
  );
  if (problems.length > 0) throw new ConfigError(source, dedupe(problems));
  return withDefaults as LecternConfig;
}

function describe(e: { message: string; value: unknown; schema: TSchema }): string {
  // TypeBox says "Unexpected property" without naming it; the path names it already.
  return e.message === 'Unexpected property' ? 'unknown key (not part of the Lectern config schema)' : e.message;
}

function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(file, ['the file must contain a JSON object']);
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(file, [`not valid JSON: ${(err as Error).message}`]);
  }
}

/**
 * LECTERN_<SECTION>_<KEY> sets section.key, e.g. LECTERN_HTTP_PORT=8080, LECTERN_MEDIA_ANNOUNCED_ADDRESS.
 * Values are converted to the schema's type; arrays and objects are given as JSON. An unknown LECTERN_*
 * variable is an error: a misspelt variable silently ignored is how a server ends up exposed.
 */
function mergeEnvironment(raw: Record<string, unknown>, env: Record<string, string | undefined>): Record<string, unknown> {
  const known = environmentKeys();
  const problems: string[] = [];
  const merged = structuredClone(raw);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('LECTERN_') || NON_CONFIG_ENV.has(name) || value === undefined) continue;
    const target = known.get(name);
    if (!target) {
      problems.push(`${name}: unknown environment variable (not a Lectern config key)`);
      continue;
    }
    const [section, key, schema] = target;
    const sectionValue = (merged[section] ??= {}) as Record<string, unknown>;
    sectionValue[key] = convert(schema, value);
  }
  if (problems.length > 0) throw new ConfigError('environment', problems);
  return merged;
}

function convert(schema: TSchema, value: string): unknown {
  const type = (schema as { type?: string }).type;
  if (type === 'array' || type === 'object') {
    try {
      return JSON.parse(value);
    } catch {
      return value; // left as a string so validation reports the key with a clear message
    }
  }
  return Value.Convert(schema, value);
}

function environmentKeys(): Map<string, [string, string, TSchema]> {
  const keys = new Map<string, [string, string, TSchema]>();
  for (const [section, sectionSchema] of Object.entries(LecternConfigSchema.properties)) {
    const properties = (sectionSchema as TObject).properties;
    if (!properties || section === 'deployment') continue;
    for (const [key, schema] of Object.entries(properties)) {
      keys.set(`LECTERN_${snake(section)}_${snake(key)}`, [section, key, schema]);
    }
  }
  return keys;
}

function snake(camel: string): string {
  return camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function dotted(path: string): string {
  return path.replace(/^\//, '').replaceAll('/', '.');
}

function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}
