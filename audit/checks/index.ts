// Every check, in one list. Each is a pure function (inputs, model) -> Finding[].
import type { AuditInputs, DataFlowModel, Finding } from '../model/types.js';
import { SEVERITIES } from '../model/types.js';
import { checkLogs, checkRecordings, checkVolumes } from './data.js';
import { checkEgress } from './egress.js';
import { checkForeignHostnames, checkIceServers } from './hostnames.js';
import { checkPorts } from './ports.js';
import {
  checkCountryDeclared,
  checkFlowsOutsideCountry,
  checkGlobalServices,
  checkLocalZoneCaveats,
  checkLocationsUnknown,
  checkPlacement,
  checkResources,
} from './residency.js';
import { checkJurisdiction } from './jurisdiction.js';
import { checkSecrets } from './secrets.js';
import { checkCsp, checkTls } from './web.js';
import { checkTurnCredentials } from './turn.js';
import { checkClusterRegistry } from './cluster.js';
import { checkDeletionReceipts, checkRecordingConsent, checkRecordingKeys, checkRecordingRetention } from './recordings.js';

/** A check: reads the inputs and the model, returns what it found. */
export type Check = (inputs: AuditInputs, model: DataFlowModel) => Finding[];

/** All checks, by name. */
export const CHECKS: Readonly<Record<string, Check>> = {
  configValid: checkConfigValid,
  countryDeclared: checkCountryDeclared,
  placement: checkPlacement,
  flowsOutsideCountry: checkFlowsOutsideCountry,
  locationsUnknown: checkLocationsUnknown,
  globalServices: checkGlobalServices,
  localZoneCaveats: checkLocalZoneCaveats,
  resources: checkResources,
  jurisdiction: checkJurisdiction,
  iceServers: checkIceServers,
  foreignHostnames: checkForeignHostnames,
  csp: checkCsp,
  tls: checkTls,
  ports: checkPorts,
  egress: checkEgress,
  recordings: checkRecordings,
  recordingRetention: checkRecordingRetention,
  recordingConsent: checkRecordingConsent,
  deletionReceipts: checkDeletionReceipts,
  recordingKeys: checkRecordingKeys,
  logs: checkLogs,
  volumes: checkVolumes,
  secrets: checkSecrets,
  turnCredentials: checkTurnCredentials,
  clusterRegistry: checkClusterRegistry,
  coverage: checkCoverage,
};

/** Run every check; findings sorted most serious first. */
export function runChecks(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const findings = Object.values(CHECKS).flatMap((check) => check(inputs, model));
  return findings.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || a.rule.localeCompare(b.rule));
}

/** A config that does not validate is reported, never replaced by defaults. */
export function checkConfigValid(inputs: AuditInputs): Finding[] {
  return (inputs.configProblems?.problems ?? []).map((problem) => ({
    rule: 'config-invalid',
    severity: 'high' as const,
    title: 'The config does not validate; the server would refuse to start',
    evidence: problem,
    where: inputs.configProblems!.source,
  }));
}

/** Say what could not be checked with the inputs given, so a clean report is not over-read. */
export function checkCoverage(inputs: AuditInputs): Finding[] {
  const missing: string[] = [];
  if (!inputs.runtime) missing.push('served CSP and TLS, live listeners, log IP handling (give --url and --admin-token)');
  if (!inputs.stack) missing.push('what is actually deployed: regions, security groups, buckets (give --stack-export)');
  if (!inputs.bundle) missing.push('hostnames in the built client (give --client-dir)');
  if (!inputs.stateUrl && (inputs.stack || inputs.config?.config.deployment)) missing.push('where Pulumi state is kept (give --state-url)');
  if (missing.length === 0) return [];
  return [{ rule: 'not-checked', severity: 'info', title: 'Some things were not checked with these inputs', evidence: missing.join('; '), where: 'audit inputs' }];
}
