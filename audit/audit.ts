// One audit run: read the inputs that were given, build the data-flow model, run every check.
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../config/index.js';
import { runChecks } from './checks/index.js';
import { buildModel } from './model/buildModel.js';
import { clientOnlyModel, isClientOnly } from './model/clientOnlyModel.js';
import { atLeast, SEVERITIES, type AuditInputs, type DataFlowModel, type Finding, type Severity } from './model/types.js';
import { AdminRuntimeSchema } from './sources/adminRuntime.js';
import { scanClientBundle } from './sources/clientBundle.js';
import { readAuditLogInput } from './sources/auditLogFile.js';
import { readAuditConfig } from './sources/configFile.js';
import { readLiveServer } from './sources/liveServer.js';
import { ADMIN_CLUSTER_PATH, readClusterRegistry } from './sources/clusterRegistry.js';
import { readStackExport } from './sources/stackExport.js';

/** Where to read each input from; every field optional, at least one required. */
export interface AuditSources {
  configFile?: string;
  stackExportFile?: string;
  url?: string;
  adminToken?: string;
  /** A saved GET /admin/runtime body (offline audits, tests). */
  runtimeFile?: string;
  clientDir?: string;
  stateUrl?: string;
  /** The server's audit log file (its public key beside it), for the recording checks. */
  auditLogFile?: string;
}

/** The result of an audit: what was looked at, the model, and the findings. */
export interface AuditReport {
  generatedAt: string;
  /** One line per input, e.g. `config tests/audit/fixtures/clean/lectern.json`. */
  inputs: string[];
  model: DataFlowModel;
  findings: Finding[];
  /** Findings a config key accepts knowingly (also in `findings`): the verdict always names them. */
  accepted: Finding[];
}

/** Thrown for inputs that cannot be read at all (as opposed to inputs that are read and found wanting). */
export class AuditInputError extends Error {
  override readonly name = 'AuditInputError';
}

/** Read every given source into AuditInputs. A config that fails validation becomes a finding, not a crash. */
export async function gatherInputs(sources: AuditSources): Promise<AuditInputs> {
  const inputs: AuditInputs = {};
  if (sources.configFile) {
    try {
      inputs.config = await readAuditConfig(sources.configFile);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      inputs.configProblems = { source: sources.configFile, problems: err.problems };
    }
  }
  if (sources.stackExportFile) inputs.stack = { source: sources.stackExportFile, export: readStackExport(sources.stackExportFile) };
  if (sources.url) {
    if (!sources.adminToken) throw new AuditInputError('--url needs --admin-token (or LECTERN_ADMIN_TOKEN)');
    const live = await readLiveServer(sources.url, sources.adminToken);
    inputs.runtime = { source: live.url, runtime: live.runtime, pageHeaders: live.pageHeaders };
    // A registry that is read becomes one flow per node. One that cannot be read (an older server
    // without the endpoint, an error) leaves it unknown whether other nodes carry this class: that
    // is a finding (checks/cluster.ts), never a pass.
    const source = `${live.url}${ADMIN_CLUSTER_PATH}`;
    try {
      const registry = await readClusterRegistry(sources.url, sources.adminToken);
      if (registry.coordination === 'redis') inputs.cluster = { source, registry };
    } catch (error) {
      inputs.clusterUnread = { source, reason: (error as Error).message };
    }
  } else if (sources.runtimeFile) {
    const body: unknown = JSON.parse(readFileSync(sources.runtimeFile, 'utf8'));
    if (!Value.Check(AdminRuntimeSchema, body)) {
      const problems = [...Value.Errors(AdminRuntimeSchema, body)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
      throw new AuditInputError(`${sources.runtimeFile}: not an admin runtime description: ${problems.join('; ')}`);
    }
    inputs.runtime = { source: sources.runtimeFile, runtime: body, pageHeaders: null };
  }
  if (sources.clientDir) inputs.bundle = scanClientBundle(sources.clientDir);
  if (sources.auditLogFile) inputs.auditLog = await readAuditLogInput(sources.auditLogFile);
  if (sources.stateUrl) inputs.stateUrl = sources.stateUrl;
  return inputs;
}

/** Run the audit over gathered inputs. Pure apart from the clock. */
export function audit(inputs: AuditInputs, now: Date = new Date()): AuditReport {
  if (!inputs.config && !inputs.configProblems && !inputs.stack && !inputs.runtime && !inputs.bundle) {
    throw new AuditInputError('nothing to audit: give at least one of --config, --stack-export, --url, --client-dir');
  }
  const model = isClientOnly(inputs) ? clientOnlyModel(inputs) : buildModel(inputs);
  const described: string[] = [];
  if (inputs.config) described.push(`config ${inputs.config.source} (${inputs.config.format === 'pulumi' ? 'pulumi config --json' : 'Lectern config'})`);
  if (inputs.configProblems) described.push(`config ${inputs.configProblems.source} (invalid)`);
  if (inputs.stack) described.push(`stack export ${inputs.stack.source} (${inputs.stack.export.resources.length} resources)`);
  if (inputs.runtime) described.push(`runtime ${inputs.runtime.source} (Lectern ${inputs.runtime.runtime.versions.lectern})`);
  if (inputs.bundle) described.push(`client bundle ${inputs.bundle.dir} (${inputs.bundle.files.length} files)`);
  if (inputs.stateUrl) described.push(`state backend ${inputs.stateUrl}`);
  if (inputs.auditLog) described.push(`audit log ${inputs.auditLog.source} (${inputs.auditLog.records.length} entries)`);
  const findings = runChecks(inputs, model);
  return { generatedAt: now.toISOString(), inputs: described, model, findings, accepted: findings.filter((f) => f.accepted) };
}

/** What fails an audit: findings at or above `severity`, and, when `countAccepted`, accepted exceptions too. */
export interface FailOn {
  severity: Severity;
  countAccepted: boolean;
}

/** Parse `--fail-on`: a severity, optionally `,accepted` (`high,accepted`); `accepted` alone means `high,accepted`. */
export function parseFailOn(text: string): FailOn {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  const countAccepted = parts.includes('accepted');
  const severities = parts.filter((p) => p !== 'accepted');
  if (severities.length > 1 || (severities.length === 0 && !countAccepted) || (severities[0] !== undefined && !SEVERITIES.includes(severities[0] as Severity))) {
    throw new AuditInputError(`--fail-on must be one of ${SEVERITIES.join(', ')}, optionally with ",accepted" (e.g. high,accepted)`);
  }
  return { severity: (severities[0] as Severity | undefined) ?? 'high', countAccepted };
}

/** The verdict every output format prints: pass or fail at the threshold, and the accepted exceptions by name. */
export interface Verdict {
  pass: boolean;
  failOn: FailOn;
  failing: Finding[];
  accepted: Finding[];
  /** One line, e.g. `PASS at "high" with 3 accepted exceptions`. */
  summary: string;
}

/** Judge a report at a threshold. */
export function verdictOf(report: AuditReport, failOn: FailOn): Verdict {
  const failing = report.findings.filter((f) => atLeast(f.severity, failOn.severity) || (failOn.countAccepted && f.accepted));
  const accepted = report.accepted;
  const n = accepted.length;
  const exceptions = `${n} accepted exception${n === 1 ? '' : 's'}`;
  const at = `at "${failOn.severity}"${failOn.countAccepted ? ' counting accepted exceptions' : ''}`;
  const summary = failing.length === 0
    ? `PASS ${at}${n > 0 ? ` with ${exceptions}` : ''}`
    : `FAIL ${at}: ${failing.length} finding${failing.length === 1 ? '' : 's'}${n > 0 ? ` (${exceptions} among all findings)` : ''}`;
  return { pass: failing.length === 0, failOn, failing, accepted, summary };
}

/** One line naming an accepted exception: what, where, and the config key that accepted it. */
export function describeAccepted(f: Finding): string {
  return `${f.title} — at ${f.where} — accepted by ${f.accepted?.key}`;
}

/** Findings at or above `threshold` (what makes the CLI exit non-zero). */
export function failing(report: AuditReport, threshold: Severity): Finding[] {
  return report.findings.filter((f) => atLeast(f.severity, threshold));
}
