#!/usr/bin/env node
// `lectern audit` — where every byte goes, as text, JSON or HTML; exits 1 when a finding is at or
// above --fail-on so it can gate CI and `pulumi up`. `lectern audit verify-log` checks the audit trail.
// Exit codes: 0 clean at the threshold, 1 findings at/above it (or a damaged log), 2 usage/input error.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { audit, gatherInputs, parseFailOn, verdictOf } from './audit.js';
import { verifyLog, AUDIT_FILES } from './log/index.js';
import { SEVERITIES } from './model/types.js';
import { renderHtml } from './report/html.js';
import { renderJson, renderText } from './report/text.js';

const USAGE = `usage:
  lectern audit [--config f] [--stack-export f] [--url u --admin-token t] [--runtime-file f]
                [--client-dir d] [--state-url u] [--format text|json|html] [--out f] [--fail-on severity]
  lectern audit verify-log <file> [--public-key f] [--expected-head seq:hash]

  --config        Lectern config JSON, or \`pulumi config --json\` output of a stack
  --stack-export  output of \`pulumi stack export\`
  --url           a running Lectern; with --admin-token (or LECTERN_ADMIN_TOKEN) reads GET /admin/runtime
  --runtime-file  a saved GET /admin/runtime response, instead of --url
  --client-dir    built browser client (client/dist) to scan for hostnames
  --audit-log     the server's audit.jsonl (public key beside it): consent records and deletion receipts
  --state-url     the Pulumi backend (\`pulumi whoami -v\`), e.g. s3://state?region=eu-north-1
  --fail-on       ${SEVERITIES.join('|')}[,accepted] (default high); ",accepted" also fails on
                  accepted exceptions (findings a config key accepts knowingly)`;

/** Run the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], out: (text: string) => void = (t) => process.stdout.write(t), err: (text: string) => void = (t) => process.stderr.write(t)): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'audit') {
    err(`${USAGE}\n`);
    return 2;
  }
  try {
    if (rest[0] === 'verify-log') return await verifyLogCommand(rest.slice(1), out);
    return await auditCommand(rest, out, err);
  } catch (e) {
    err(`lectern audit: ${(e as Error).message}\n`);
    return 2;
  }
}

async function auditCommand(args: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      config: { type: 'string' },
      'stack-export': { type: 'string' },
      url: { type: 'string' },
      'admin-token': { type: 'string' },
      'runtime-file': { type: 'string' },
      'client-dir': { type: 'string' },
      'state-url': { type: 'string' },
      'audit-log': { type: 'string' },
      format: { type: 'string', default: 'text' },
      out: { type: 'string' },
      'fail-on': { type: 'string', default: 'high' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(`${USAGE}\n`);
    return 0;
  }
  const failOn = parseFailOn(values['fail-on']!);
  const format = values.format;
  if (format !== 'text' && format !== 'json' && format !== 'html') throw new Error('--format must be text, json or html');
  const inputs = await gatherInputs({
    configFile: values.config,
    stackExportFile: values['stack-export'],
    url: values.url,
    adminToken: values['admin-token'] ?? process.env.LECTERN_ADMIN_TOKEN,
    runtimeFile: values['runtime-file'],
    clientDir: values['client-dir'],
    stateUrl: values['state-url'],
    auditLogFile: values['audit-log'],
  });
  const report = audit(inputs);
  const verdict = verdictOf(report, failOn);
  const rendered = format === 'json' ? renderJson(report, verdict) : format === 'html' ? renderHtml(report, verdict) : renderText(report, { colour: !values.out && process.stdout.isTTY, verdict });
  if (values.out) {
    writeFileSync(values.out, rendered);
    err(`wrote ${values.out}\n`);
  } else out(rendered);
  if (!verdict.pass) err(`lectern audit: ${verdict.failing.length} finding(s) at or above ${failOn.severity}${failOn.countAccepted ? ' or accepted' : ''}\n`);
  return exitCodeOf(verdict);
}

/** The exit code of an audit: 0 when it passes at the threshold, 1 otherwise. */
export function exitCodeOf(verdict: { pass: boolean }): 0 | 1 {
  return verdict.pass ? 0 : 1;
}

async function verifyLogCommand(args: string[], out: (text: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { 'public-key': { type: 'string' }, 'expected-head': { type: 'string' } },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new Error('verify-log takes exactly one log file');
  const keyFile = values['public-key'] ?? join(dirname(file), AUDIT_FILES.publicKey);
  let expectedHead: { seq: number; hash: string } | undefined;
  if (values['expected-head']) {
    const m = /^(\d+):([0-9a-f]{64})$/.exec(values['expected-head']);
    if (!m) throw new Error('--expected-head is seq:hash (hash as 64 hex digits)');
    expectedHead = { seq: Number(m[1]), hash: m[2]! };
  }
  const report = await verifyLog(file, readFileSync(keyFile), expectedHead ? { expectedHead } : {});
  const lines = [`audit log ${file}`, `  key ${report.keyFingerprint} from ${keyFile}${values['public-key'] ? '' : ' (beside the log: keep a copy elsewhere for an independent check)'}`, `  ${report.authenticEntries} authentic entries in ${report.lines} lines; head ${report.head ? `${report.head.seq}:${report.head.hash}` : 'none'}`];
  if (report.ok) lines.push('  OK: every entry is intact, in order, and signed');
  for (const p of report.problems) lines.push(`  ${p.kind.toUpperCase()}: ${p.message}`);
  if (!expectedHead) lines.push('  note: removal of the newest entries is detectable only with --expected-head from an earlier run');
  out(`${lines.join('\n')}\n`);
  return report.ok ? 0 : 1;
}

// Run when executed directly (the npm bin), not when imported by tests.
if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
