// Secrets in config and Pulumi state, found by what the values are, not by what keys are called: a
// section named `tokens` or a default issuer `lectern` is not a secret (that mistake failed the
// config the Pulumi program itself writes). Two sources of truth:
//  - the fields the schema defines as secrets (SECRET_FIELDS): their values must not be published
//    examples, short or low-entropy;
//  - anywhere else, values that are key material by their form: PEM private keys, AWS access keys,
//    JWTs, and long high-entropy tokens in stack config that Pulumi stores in plain text.
import { isSecretEnvelope } from '../sources/stackExport.js';
import type { AuditInputs, Finding } from '../model/types.js';

/** Config paths that hold secrets, as the schema defines them (`[]` = any array index). */
export const SECRET_FIELDS: readonly string[] = ['ice.servers[].credential', 'auth.tokenSecret', 'auth.sessionSecret', 'auth.oidc.clientSecret'];

/** Stack config keys (`pulumi config`) that are secrets (infra/stack-config.ts SECRET_KEYS). */
export const SECRET_STACK_KEYS: readonly string[] = ['lectern:turnCredential'];

// Values shipped in examples and docs (eduMEET's demo keys, coturn's `north`, AWS's doc keys...).
const EXAMPLE_VALUES = new Set([
  'changeme', 'change-me', 'changeit', 'secret', 'password', 'passw0rd', 'admin', 'test', 'example', 'default',
  'lectern', 'turnpassword', 'turn-secret', 'your-secret-here', 'supersecret', 'north', 'qwerty', '123456', 'letmein',
  'akiaiosfodnn7example', 'wjalrxutnfemi/k7mdeng/bpxrficyexamplekey',
]);
const EXAMPLE_WORDS = /example|changeme|placeholder/i;

/** Key material recognised by its form, anywhere in a value. */
const KEY_MATERIAL: ReadonlyArray<[name: string, pattern: RegExp]> = [
  ['a PEM private key', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/],
  ['an AWS access key id', /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/],
  ['a JSON Web Token', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}\b/],
  ['a GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ['a Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/],
];

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits;
}

/** A value shaped like a generated secret: one long token of mixed characters with high entropy. */
export function looksGenerated(value: string): boolean {
  if (value.length < 24 || !/^[A-Za-z0-9+/=_-]+$/.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((c) => c.test(value)).length;
  const hex = /^[0-9a-f]+$/i.test(value);
  return (hex && value.length >= 32 && entropy(value) >= 3.5) || (classes >= 2 && entropy(value) >= 4);
}

/** The name of the key material in `value`, if any. */
export function keyMaterialIn(value: string): string | undefined {
  return KEY_MATERIAL.find(([, pattern]) => pattern.test(value))?.[0];
}

/** Example, weak and misplaced secrets in the config; key material in plain text in the stack state. */
export function checkSecrets(inputs: AuditInputs): Finding[] {
  const findings: Finding[] = [];
  if (inputs.config) {
    const source = inputs.config.source;
    const sections = inputs.config.format === 'pulumi' ? sectionsOfPulumi(inputs.config.raw) : inputs.config.raw;
    walk(sections, '', (path, value) => {
      const where = `${source} ${path}`;
      const material = keyMaterialIn(value);
      const secretField = SECRET_FIELDS.includes(path.replace(/\[\d+\]/g, '[]'));
      if (material && !secretField) {
        findings.push({ rule: 'secret-in-config', severity: 'high', title: `${material} is written into the config`, evidence: `${path} holds ${material}; keep key material out of config files`, where });
      } else if (secretField) {
        findings.push(...judgeSecret(path, value, where));
      }
    });
    if (inputs.config.format === 'pulumi') {
      for (const [key, entry] of Object.entries(inputs.config.raw)) {
        const e = entry as { secret?: unknown; value?: unknown };
        if (e.secret === true || typeof e.value !== 'string') continue;
        const material = keyMaterialIn(e.value);
        if (SECRET_STACK_KEYS.includes(key) || material || looksGenerated(e.value)) {
          findings.push({ rule: 'secret-not-encrypted', severity: 'high', title: `Stack config ${key} is not a Pulumi secret`, evidence: `${SECRET_STACK_KEYS.includes(key) ? 'a secret of the stack' : material ?? 'a generated-looking token'} stored in plain text in Pulumi.<stack>.yaml and state; set it with \`pulumi config set --secret\``, where: `${source} ${key}` });
        }
        if (SECRET_STACK_KEYS.includes(key)) findings.push(...judgeSecret(key, e.value, `${source} ${key}`));
      }
    }
  }
  for (const r of inputs.stack?.export.resources ?? []) {
    for (const [bagName, bag] of [['inputs', r.inputs], ['outputs', r.outputs]] as const) {
      walk(bag, bagName, (path, value) => {
        const material = keyMaterialIn(value);
        if (material) findings.push({ rule: 'plaintext-secret-in-state', severity: 'high', title: `Plain-text key material in Pulumi state (${r.name})`, evidence: `${path} holds ${material}, not a Pulumi secret`, where: `${inputs.stack!.source}: ${r.urn}` });
        else if (EXAMPLE_VALUES.has(value.trim().toLowerCase()) && /credential|secret|password/i.test(path.split('.').pop() ?? '')) {
          // A published example value in a resource's secret argument (an RDS masterPassword, ...).
          findings.push({ rule: 'default-secret', severity: 'critical', title: `Default secret in ${r.name}`, evidence: `${path} = ${mask(value)}`, where: `${inputs.stack!.source}: ${r.urn}` });
        }
      });
    }
  }
  return dedupe(findings);
}

function judgeSecret(path: string, value: string, where: string): Finding[] {
  const lower = value.trim().toLowerCase();
  if (EXAMPLE_VALUES.has(lower) || EXAMPLE_WORDS.test(value)) {
    return [{ rule: 'default-secret', severity: 'critical', title: `Default or example secret in ${path}`, evidence: `${path} = ${mask(value)} (a value published in examples)`, where }];
  }
  if (value.length < 16 || entropy(value) < 3) {
    return [{ rule: 'weak-secret', severity: 'medium', title: `Weak secret in ${path}`, evidence: `${value.length} characters, ${entropy(value).toFixed(1)} bits each; use at least 32 random characters`, where }];
  }
  return [];
}

// `pulumi config --json` -> the Lectern sections it holds, so SECRET_FIELDS paths apply to it too.
function sectionsOfPulumi(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(raw)) {
    if (!key.startsWith('lectern:') || SECRET_STACK_KEYS.includes(key)) continue;
    const e = (entry ?? {}) as { value?: unknown; objectValue?: unknown; secret?: unknown };
    if (e.secret === true) continue;
    let value = e.objectValue ?? e.value;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        // a plain string value
      }
    }
    out[key.slice('lectern:'.length)] = value;
  }
  return out;
}

function walk(value: unknown, path: string, visit: (path: string, value: string) => void): void {
  if (isSecretEnvelope(value)) return; // encrypted by Pulumi: fine
  if (typeof value === 'string') visit(path, value);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, visit);
  }
}

function mask(value: string): string {
  return value.length <= 4 ? '****' : `${value.slice(0, 2)}…${value.slice(-2)}`;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}|${f.where}|${f.evidence}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
