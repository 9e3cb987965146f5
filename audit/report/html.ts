// The self-contained HTML report: verdict, the data-flow map (inline SVG), then the findings table.
// No external URL of any kind — no fonts, scripts, images or links — because the report is audited too.
import { describeAccepted, verdictOf, type AuditReport, type Verdict } from '../audit.js';
import { SEVERITIES, type Severity } from '../model/types.js';
import { renderDiagram } from './diagram.js';
import { esc } from './escape.js';

const SEVERITY_COLOURS: Record<Severity, [bg: string, fg: string]> = {
  critical: ['#7f1d1d', '#fff'],
  high: ['#dc2626', '#fff'],
  medium: ['#f59e0b', '#1f2937'],
  low: ['#0ea5e9', '#fff'],
  info: ['#e2e8f0', '#334155'],
};

/** Render the report as one HTML document. */
export function renderHtml(report: AuditReport, judged: Verdict | Severity = 'high'): string {
  const { model } = report;
  const v = typeof judged === 'string' ? verdictOf(report, { severity: judged, countAccepted: false }) : judged;
  const threshold = v.failOn.severity;
  const failing = v.failing;
  const counts = [...SEVERITIES].reverse().map((s) => [s, report.findings.filter((f) => f.severity === s).length] as const);
  const foreign = model.flows.filter((f) => f.active && f.location.country !== null && f.location.country !== model.country && f.location.scope !== 'loopback');
  // A pass with accepted exceptions is not a plain green PASS: the verdict names each exception.
  const n = v.accepted.length;
  const acceptedList = n > 0 ? `<ul class="accepted">${v.accepted.map((f) => `<li>${esc(describeAccepted(f))}</li>`).join('')}</ul>` : '';
  const verdict = failing.length === 0
    ? `<div class="verdict pass${n > 0 ? ' with-exceptions' : ''}"><strong>PASS${n > 0 ? `ES WITH ${n} ACCEPTED EXCEPTION${n === 1 ? '' : 'S'}` : ''}</strong> at “${threshold}”: no finding at or above it${n > 0 ? `; passes with ${n} accepted exception${n === 1 ? '' : 's'}:` : '.'}${acceptedList}</div>`
    : `<div class="verdict fail"><strong>FAIL</strong> at “${threshold}”${v.failOn.countAccepted ? ' counting accepted exceptions' : ''}: ${failing.length} finding${failing.length === 1 ? '' : 's'} at or above it.${n > 0 ? ` ${n} accepted exception${n === 1 ? '' : 's'}:` : ''}${acceptedList}</div>`;
  const resourceRows = model.resources
    .filter((r) => r.classification.role !== 'component')
    .map((r) => {
      const c = r.classification;
      const problems = r.violations.map((v) => `${v.accepted ? 'accepted: ' : ''}${v.message}`);
      return `<tr class="${r.violations.some((v) => !v.accepted) ? 'foreign' : ''}"><td><code>${esc(r.type)}</code><div class="basis">${esc(r.name)}</div></td><td>${esc(c.role)}</td><td>${esc(c.location.country ?? '—')}</td><td>${esc(c.location.code ?? c.location.scope)}<div class="basis">${esc(c.location.basis)}</div></td><td>${esc(c.operator ? `${c.operator.name} (${c.operator.jurisdiction ?? '??'} law)` : '—')}</td><td>${esc(problems.join('; ') || 'none')}</td></tr>`;
    })
    .join('\n');
  const resourcesSection = model.resources.length > 0
    ? `<section><h2>Every stack resource</h2><p class="hint">Classified by the same rules the policy pack enforces (config/residency/classify.ts): what it does, where, who operates it.</p><table class="flows resources"><thead><tr><th>Resource</th><th>Does</th><th>Country</th><th>Where, and how we know</th><th>Operator (law)</th><th>Residency problems</th></tr></thead><tbody>\n${resourceRows}\n</tbody></table></section>`
    : '';
  const jurisdiction = `<section><h2>Who operates it, under which law</h2><p class="hint">Jurisdiction judged by <code>${esc(model.jurisdiction)}</code> (deployment.jurisdiction).</p>${model.jurisdictionNote ? `<p class="jurisdiction">${esc(model.jurisdictionNote)}</p>` : `<p>Every operator is bound by ${esc(model.country ?? 'the country')}’s law.</p>`}</section>`;
  const rows = report.findings
    .map((f) => {
      const [bg, fg] = SEVERITY_COLOURS[f.severity];
      return `<tr class="sev-${f.severity}"><td><span class="pill" style="background:${bg};color:${fg}">${f.severity}</span></td><td><code>${esc(f.rule)}</code></td><td><div class="title">${esc(f.title)}</div><div class="evidence">${esc(f.evidence)}</div></td><td class="where">${esc(f.where)}</td></tr>`;
    })
    .join('\n');
  const flowRows = model.flows
    .map((f) => `<tr class="${f.active ? '' : 'off'}${f.location.country !== null && f.location.country !== model.country && f.location.scope !== 'loopback' && f.active ? ' foreign' : ''}"><td>${esc(f.label)}</td><td>${esc(f.location.country ?? '—')}</td><td>${esc(f.location.place)}<div class="basis">${esc(f.location.basis)}</div></td><td>${esc(f.operator.name)}<div class="basis">${esc(f.operator.jurisdiction ?? '??')} law</div></td><td>${esc(f.readers)}</td><td>${esc(f.encryption)}</td><td>${esc(f.active ? f.retention : 'switched off')}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Lectern audit — ${esc(model.country ?? 'no country')} — ${esc(report.generatedAt)}</title>
<style>
  :root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color:var(--ink); background:var(--bg); }
  header { background: linear-gradient(120deg, #0f172a, #1e3a5f); color:#fff; padding: 28px 40px 24px; }
  header h1 { margin:0 0 6px; font-size: 26px; letter-spacing: -0.01em; }
  header .sub { color:#cbd5e1; }
  header .inputs { margin: 12px 0 0; padding:0; list-style:none; color:#94a3b8; font-size: 12.5px; }
  main { padding: 24px 40px 48px; }
  .cards { display:flex; gap:12px; flex-wrap:wrap; margin: 0 0 18px; }
  .card { background:#fff; border:1px solid var(--line); border-radius:12px; padding:10px 16px; min-width: 110px; }
  .card .n { font-size: 24px; font-weight: 700; }
  .card .l { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .06em; }
  .verdict { border-radius:12px; padding: 12px 18px; margin: 0 0 22px; font-size: 15px; }
  .verdict.pass { background:#dcfce7; color:#14532d; border:1px solid #86efac; }
  .verdict.fail { background:#fee2e2; color:#7f1d1d; border:1px solid #fca5a5; }
  .verdict.pass.with-exceptions { background:#fef9c3; color:#713f12; border:1px solid #fde047; }
  .verdict ul.accepted { margin: 8px 0 0; padding-left: 20px; font-size: 13px; }
  .jurisdiction { font-size: 13.5px; }
  section { background:#fff; border:1px solid var(--line); border-radius:16px; padding: 18px 20px; margin: 0 0 22px; }
  h2 { margin: 0 0 4px; font-size: 18px; }
  .hint { color: var(--muted); margin: 0 0 14px; font-size: 13px; }
  .scroll { overflow-x:auto; }
  svg.diagram { display:block; font-family: inherit; max-width: 100%; height: auto; }
  svg .col-title { font-weight: 700; font-size: 15px; }
  svg .col-sub { font-size: 11.5px; fill: #64748b; }
  svg .flow-label { font-weight: 600; font-size: 12.5px; fill: #0f172a; }
  svg .flow-place { font-size: 11px; fill: #475569; }
  svg .flow-ret { font-size: 10.5px; fill: #94a3b8; }
  svg .pd { fill: #db2777; font-size: 10px; }
  svg .off text { fill: #94a3b8; }
  svg .browser-t { fill: #fff; font-weight: 600; font-size: 12.5px; }
  .legend { display:flex; gap:18px; flex-wrap:wrap; color: var(--muted); font-size: 12px; margin-top: 10px; }
  .legend i { display:inline-block; width:12px; height:12px; border-radius:3px; vertical-align:-2px; margin-right:5px; }
  table { border-collapse: collapse; width:100%; }
  th { text-align:left; font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); border-bottom: 2px solid var(--line); padding: 8px 10px; }
  td { border-bottom: 1px solid var(--line); padding: 10px; vertical-align: top; }
  tr.sev-critical td, tr.sev-high td { background: #fff7f7; }
  .pill { display:inline-block; border-radius: 999px; padding: 2px 10px; font-size: 11.5px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em; }
  .title { font-weight: 600; }
  .evidence { color:#334155; font-size: 12.5px; margin-top: 3px; word-break: break-word; }
  .where { color: var(--muted); font-size: 12px; word-break: break-all; max-width: 320px; }
  code { font-size: 12px; background:#f1f5f9; border-radius:6px; padding: 1px 6px; }
  .flows td { font-size: 12.5px; }
  .flows tr.off td { color:#94a3b8; }
  .flows tr.foreign td:first-child { border-left: 4px solid #dc2626; }
  .basis { color:#94a3b8; font-size: 11.5px; }
  footer { color: var(--muted); font-size: 12px; padding: 0 40px 30px; }
</style>
</head>
<body>
<header>
  <h1>Where every byte goes</h1>
  <div class="sub">Lectern audit · country <strong>${esc(model.country ?? 'not declared')}</strong>${model.countrySource ? ` (${esc(model.countrySource)})` : ''} · ${esc(report.generatedAt)}</div>
  <ul class="inputs">${report.inputs.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>
</header>
<main>
  <div class="cards">
    ${counts.map(([s, n]) => `<div class="card"><div class="n" style="color:${n > 0 && s !== 'info' ? SEVERITY_COLOURS[s][0] : '#0f172a'}">${n}</div><div class="l">${s}</div></div>`).join('')}
    <div class="card"><div class="n">${model.flows.filter((f) => f.active).length}</div><div class="l">flows</div></div>
    <div class="card"><div class="n" style="color:${foreign.length ? '#dc2626' : '#15803d'}">${foreign.length}</div><div class="l">outside ${esc(model.country ?? 'country')}</div></div>
  </div>
  ${verdict}
  <section>
    <h2>Data flows by country</h2>
    <p class="hint">Each box is a flow of data, placed by the region or zone its provider reports (never by a label). Red columns are outside the deployment’s country. Lines are what participants’ browsers contact directly; ● marks personal data. Hover a box for how its place was derived.</p>
    <div class="scroll">${renderDiagram(model)}</div>
    <div class="legend"><span><i style="background:#15803d"></i>in the country</span><span><i style="background:#dc2626"></i>outside the country or a third party</span><span><i style="background:#d97706"></i>location not derivable</span><span><i style="background:#cbd5e1"></i>switched off</span></div>
  </section>
  <section>
    <h2>Findings</h2>
    <p class="hint">Most serious first. The CLI exits non-zero when any finding is at or above “${threshold}”.</p>
    <table class="findings"><thead><tr><th>Severity</th><th>Rule</th><th>Finding and evidence</th><th>Seen at</th></tr></thead><tbody>
${rows || '<tr><td colspan="4">No findings.</td></tr>'}
    </tbody></table>
  </section>
  <section>
    <h2>Flows in detail</h2>
    <table class="flows"><thead><tr><th>Flow</th><th>Country</th><th>Where, and how we know</th><th>Operator (law)</th><th>Who can read it</th><th>Encryption</th><th>Retention</th></tr></thead><tbody>
${flowRows}
    </tbody></table>
  </section>
  ${resourcesSection}
  ${jurisdiction}
</main>
<footer>Generated by <code>lectern audit</code>. This file loads nothing from anywhere: no fonts, scripts or images.</footer>
</body>
</html>
`;
}
