// Terminal and JSON renderings of an audit report.
import type { AuditReport } from '../audit.js';
import type { Severity } from '../model/types.js';

const COLOURS: Record<Severity, string> = { critical: '\x1b[97;41m', high: '\x1b[31;1m', medium: '\x1b[33m', low: '\x1b[36m', info: '\x1b[2m' };

/** A terminal summary: inputs, where the data goes, then findings, most serious first. */
export function renderText(report: AuditReport, options: { colour?: boolean; threshold?: Severity } = {}): string {
  const c = (severity: Severity, text: string): string => (options.colour ? `${COLOURS[severity]}${text}\x1b[0m` : text);
  const { model } = report;
  const lines: string[] = [];
  lines.push(`Lectern audit — ${report.generatedAt}`);
  lines.push(`Country: ${model.country ?? 'not declared'}${model.countrySource ? ` (from ${model.countrySource})` : ''}`);
  for (const input of report.inputs) lines.push(`  input: ${input}`);
  lines.push('', 'Where the data goes:');
  for (const flow of model.flows) {
    const where = flow.location.country ?? '??';
    const mark = !flow.active ? ' ' : flow.location.country === model.country || flow.location.scope === 'loopback' ? '✓' : flow.location.country === null ? '?' : '✗';
    lines.push(`  ${mark} ${where.padEnd(3)} ${flow.label.padEnd(44)} ${flow.location.place}${flow.active ? '' : ' (off)'}`);
  }
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

/** Machine-readable report (stable keys; the model included). */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
