// A deployment config for the audit: either a Lectern config JSON file (what the server reads) or the
// JSON of `pulumi config --json` for a stack (keys `lectern:<section>`), both validated by the one schema.
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, type LecternConfig } from '../../config/index.js';

/** The config the audit works from, and whether it came from a stack's config. */
export interface AuditConfig {
  config: LecternConfig;
  /** File it was read from. */
  source: string;
  /** `lectern` for a server config file, `pulumi` for `pulumi config --json` output. */
  format: 'lectern' | 'pulumi';
  /** Raw values as written in the file, for the default-secret scan (includes secrets Pulumi shows). */
  raw: Record<string, unknown>;
}

/**
 * Read a config file: Lectern JSON, `pulumi config --json` output, or a Pulumi.<stack>.yaml (needs the
 * js-yaml package). Throws ConfigError with every problem (the audit reports them as findings).
 */
export async function readAuditConfig(file: string): Promise<AuditConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  if (/\.ya?ml$/i.test(file)) return parseAuditConfig(await stackYamlToConfigJson(text, file), file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [`cannot read it as JSON: ${(err as Error).message}`]);
  }
  return parseAuditConfig(json, file);
}

// Pulumi.<stack>.yaml `config:` -> the `pulumi config --json` shape; `secure:` values are secrets.
async function stackYamlToConfigJson(text: string, file: string): Promise<Record<string, unknown>> {
  let yaml: { load: (text: string) => unknown };
  try {
    yaml = (await import('js-yaml')) as unknown as { load: (text: string) => unknown };
  } catch {
    throw new ConfigError(file, ['reading a Pulumi stack YAML needs the js-yaml package; or pass `pulumi config --json` output']);
  }
  const doc = yaml.load(text) as { config?: Record<string, unknown> } | null;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    const secure = typeof value === 'object' && value !== null && 'secure' in value;
    out[key] = secure ? { secret: true } : typeof value === 'object' ? { objectValue: value, secret: false } : { value: String(value), secret: false };
  }
  return out;
}

/** Validate an in-memory config (either format). */
export function parseAuditConfig(json: unknown, source: string): AuditConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(source, ['the file must contain a JSON object']);
  const object = json as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length > 0 && keys.every((k) => k.includes(':'))) {
    // `pulumi config --json`: { "lectern:media": { "value": "...", "objectValue": {...}, "secret": false } }
    const sections: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(object)) {
      if (!key.startsWith('lectern:')) continue;
      const name = key.slice('lectern:'.length);
      const e = (entry ?? {}) as { value?: unknown; objectValue?: unknown };
      const value = e.objectValue ?? parseMaybe(e.value);
      // Stack secrets (turnCredential, ...) are not config sections; they are still scanned for defaults.
      if (name in EXTRA_STACK_KEYS) continue;
      sections[name] = value;
    }
    return { config: parseConfig(sections, source), source, format: 'pulumi', raw: object };
  }
  return { config: parseConfig(object, source), source, format: 'lectern', raw: object };
}

/** Stack keys that are not config sections (see infra/stack-config.ts SECRET_KEYS). */
const EXTRA_STACK_KEYS: Record<string, true> = { turnCredential: true };

function parseMaybe(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
