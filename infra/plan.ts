// Layer one of the residency guarantee: the program refuses to build anything from a stack whose
// config would place hosts or data outside the country. Pure: tests call it without a Pulumi runtime.
import { ConfigError } from '../config/index.js';
import { decidePlacement, recordingKeyProblems, type Placement } from '../config/residency/index.js';
import { readStackConfig, type StackConfig } from './stack-config.js';

/** A stack that may be built: validated config and an in-country placement. */
export interface DeploymentPlan extends StackConfig {
  readonly placement: Placement;
  /** Hostname coturn's certificate is issued for. */
  readonly turnDomain: string;
}

/** CloudWatch Logs accepts only these retention values (days). */
export const CLOUDWATCH_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Validate the stack config and decide the placement; throws ConfigError or ResidencyError. */
export function planDeployment(all: Readonly<Record<string, string>>): DeploymentPlan {
  requireNoDefaultProviders(all);
  const stack = readStackConfig(all);
  const { deployment } = stack;
  const placement = decidePlacement(deployment);
  if (placement.dataStore === 'regional-services' && !CLOUDWATCH_RETENTION_DAYS.includes(deployment.storage.logRetentionDays)) {
    throw new ConfigError('stack config', [
      `lectern:deployment.storage.logRetentionDays: CloudWatch accepts only ${CLOUDWATCH_RETENTION_DAYS.join(', ')}`,
    ]);
  }
  // A recording key the stack names must be in the country, single-Region (as the server checks at start-up).
  const key = stack.config.recording.keyWrapping;
  if (key.kind === 'aws-kms') {
    const problems = recordingKeyProblems(key, deployment.country).map((p) => `lectern:${p}`);
    if (problems.length > 0) throw new ConfigError('stack config', problems);
  }
  const turnDomain = deployment.turn.domain ?? (deployment.turn.mode === 'colocated' ? deployment.domain : `turn.${deployment.domain}`);
  return { ...stack, placement, turnDomain };
}

/**
 * A resource created without our provider would go to whatever region the operator's shell points at.
 * Pulumi only prevents that when the stack disables default providers, so insist on it.
 */
function requireNoDefaultProviders(all: Readonly<Record<string, string>>): void {
  const text = all['pulumi:disable-default-providers'];
  let list: unknown = [];
  try {
    list = text === undefined ? [] : JSON.parse(text);
  } catch {
    list = [text];
  }
  if (!Array.isArray(list) || !(list.includes('*') || list.includes('aws'))) {
    throw new ConfigError('stack config', [
      'pulumi:disable-default-providers: must include "aws" or "*" so nothing can use an unpinned AWS provider',
    ]);
  }
}
