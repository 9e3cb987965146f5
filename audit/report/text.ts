// Terminal and JSON renderings of an audit report.
import { describeAccepted, verdictOf, type AuditReport, type Verdict } from '../audit.js';
import type { Severity } from '../model/types.js';

const COLOURS: Record<Severity, string> = { critical: '\x1b[97;41m', high: '\x1b[31;1m', medium: '\x1b[33m', low: '\x1b[36m', info: '\x1b[2m' };

/** A terminal summary: inputs, where the data goes, then findings, most serious first. */
export function renderText(report: AuditReport, options: { colour?: boolean; verdict?: Verdict } = {}): string {
  const c = (severity: Severity, text: string): string => (options.colour ? `${COLOURS[severity]}${text}\x1b[0m` : text);
  const { model } = report;
  const verdict = options.verdict ?? verdictOf(report, { severity: 'high', countAccepted: false });
  const lines: string[] = [];
  lines.push(`Lectern audit — ${report.generatedAt}`);
  lines.push(`Country: ${model.country ?? 'not declared'}${model.countrySource ? ` (from ${model.countrySource})` : ''}; jurisdiction judged by ${model.jurisdiction}`);
  for (const input of report.inputs) lines.push(`  input: ${input}`);
  lines.push(`Verdict: ${verdict.summary}`);
  for (const f of verdict.accepted) lines.push(`  accepted: ${describeAccepted(f)}`);
  lines.push('', 'Where the data goes (country of the data; operator and the law that binds it):');
  for (const flow of model.flows) {
    const where = flow.location.country ?? '??';
    const mark = !flow.active ? ' ' : flow.location.country === model.country || flow.location.scope === 'loopback' ? '✓' : flow.location.country === null ? '?' : '✗';
    lines.push(`  ${mark} ${where.padEnd(3)} ${flow.label.padEnd(44)} ${flow.location.place}${flow.active ? '' : ' (off)'} — operator ${flow.operator.name} (${flow.operator.jurisdiction ?? '??'} law)`);
  }
  if (model.hosts.length > 0) {
    lines.push('', `Hosts (${model.hosts.length}):`);
    for (const h of model.hosts) lines.push(`  ${h.role.padEnd(6)} ${h.name.padEnd(30)} ${h.location.place} (role from ${h.roleBasis})`);
  }
  if (model.resources.length > 0) {
    const problems = model.resources.filter((r) => r.violations.some((v) => !v.accepted)).length;
    lines.push('', `Stack resources: ${model.resources.length} classified (${problems} with a residency problem; see findings):`);
    for (const r of model.resources.filter((x) => x.classification.role !== 'component')) {
      const c = r.classification;
      const mark = r.violations.some((v) => !v.accepted) ? '✗' : '✓';
      lines.push(`  ${mark} ${(c.location.country ?? '??').padEnd(3)} ${c.role.padEnd(15)} ${`${r.type} ${r.name}`.padEnd(70)} ${c.location.code ?? c.location.scope}${c.operator ? ` — ${c.operator.name} (${c.operator.jurisdiction ?? '??'} law)` : ''}`);
    }
  }
  if (model.jurisdictionNote) lines.push('', `Jurisdiction: ${model.jurisdictionNote}`);
  lines.push('', `Findings (${report.findings.length}):`);
  for (const f of report.findings) {
    lines.push(`  ${c(f.severity, f.severity.toUpperCase().padEnd(8))} ${f.rule}: ${f.title}`);
    lines.push(`           ${f.evidence}`);
    lines.push(`           at ${f.where}`);
  }
  const counts = (['critical', 'high', 'medium', 'low', 'info'] as Severity[]).map((s) => `${report.findings.filter((f) => f.severity === s).length} ${s}`);
  lines.push('', `Summary: ${counts.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** Machine-readable report (stable keys; the model included); with a verdict when one was judged. */
export function renderJson(report: AuditReport, verdict?: Verdict): string {
  const body = verdict
    ? { ...report, verdict: { pass: verdict.pass, summary: verdict.summary, failOn: verdict.failOn, failing: verdict.failing.length, acceptedExceptions: verdict.accepted.map((f) => ({ what: f.title, where: f.where, acceptedBy: f.accepted?.key, rule: f.rule })) } }
    : report;
  return `${JSON.stringify(body, null, 2)}\n`;
}
