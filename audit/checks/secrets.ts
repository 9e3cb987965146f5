// Default secrets, example keys and plaintext secrets in config and Pulumi state.
import { isSecretEnvelope } from '../sources/stackExport.js';
import type { AuditInputs, Finding } from '../model/types.js';

// Values shipped in examples and docs (eduMEET's demo keys, coturn's `north`, AWS's doc keys...).
const DEFAULT_VALUES = new Set([
  'changeme', 'change-me', 'changeit', 'secret', 'password', 'passw0rd', 'admin', 'test', 'example', 'default',
  'lectern', 'turnpassword', 'turn-secret', 'your-secret-here', 'supersecret', 'north', 'qwerty', '123456', 'letmein',
  'akiaiosfodnn7example', 'wjalrxutnfemi/k7mdeng/bpxrficyexamplekey',
]);
const SECRET_KEY = /credential|secret|password|passwd|token|private|apikey|api_key|key$/i;
const PRIVATE_KEY_PEM = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** Known default or example secrets, weak ones, and private keys in plain text. */
export function checkSecrets(inputs: AuditInputs): Finding[] {
  const findings: Finding[] = [];
  if (inputs.config) {
    walk(inputs.config.raw, '', (path, value, parentSecret) => {
      const where = `${inputs.config!.source} ${path}`;
      const secretish = parentSecret || SECRET_KEY.test(path.split('.').pop() ?? '');
      const lower = value.trim().toLowerCase();
      if (PRIVATE_KEY_PEM.test(value)) findings.push({ rule: 'secret-in-config', severity: 'high', title: 'A private key is written into the config', evidence: `${path} holds a PEM private key`, where });
      else if (secretish && (DEFAULT_VALUES.has(lower) || /example|changeme|placeholder/i.test(value))) findings.push({ rule: 'default-secret', severity: 'critical', title: `Default or example secret in ${path}`, evidence: `${path} = ${mask(value)} (a value published in examples)`, where });
      else if (secretish && value.length > 0 && value.length < 16 && !/^(true|false)$/.test(lower) && path.split('.').pop() !== 'username') findings.push({ rule: 'weak-secret', severity: 'medium', title: `Short secret in ${path}`, evidence: `${value.length} characters; use at least 32 random characters`, where });
    });
    if (inputs.config.format === 'pulumi') {
      for (const [key, entry] of Object.entries(inputs.config.raw)) {
        const e = entry as { secret?: unknown; value?: unknown };
        if (SECRET_KEY.test(key) && e.secret !== true && typeof e.value === 'string') {
          findings.push({ rule: 'secret-not-encrypted', severity: 'high', title: `Stack config ${key} is not a Pulumi secret`, evidence: 'stored in plain text in Pulumi.<stack>.yaml and state; set it with `pulumi config set --secret`', where: `${inputs.config.source} ${key}` });
        }
      }
    }
  }
  for (const r of inputs.stack?.export.resources ?? []) {
    for (const [bagName, bag] of [['inputs', r.inputs], ['outputs', r.outputs]] as const) {
      walk(bag, bagName, (path, value) => {
        if (PRIVATE_KEY_PEM.test(value)) findings.push({ rule: 'plaintext-secret-in-state', severity: 'high', title: `Private key in plain text in Pulumi state (${r.name})`, evidence: `${path} is a PEM private key, not a Pulumi secret`, where: `${inputs.stack!.source}: ${r.urn}` });
        else if (SECRET_KEY.test(path.split('.').pop() ?? '') && DEFAULT_VALUES.has(value.trim().toLowerCase())) findings.push({ rule: 'default-secret', severity: 'critical', title: `Default secret in ${r.name}`, evidence: `${path} = ${mask(value)}`, where: `${inputs.stack!.source}: ${r.urn}` });
      });
    }
  }
  return dedupe(findings);
}

function walk(value: unknown, path: string, visit: (path: string, value: string, parentSecret: boolean) => void, parentSecret = false): void {
  if (isSecretEnvelope(value)) return; // encrypted by Pulumi: fine
  if (typeof value === 'string') visit(path, value, parentSecret);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit, parentSecret));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, visit, parentSecret || SECRET_KEY.test(k));
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
