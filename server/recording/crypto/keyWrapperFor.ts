// The key-encryption key config selects (recording.keyWrapping), refused at start-up when it cannot
// be shown to be in the deployment's country: default deny, the server does not start.
import { ConfigError, type RecordingConfig } from '../../../config/index.js';
import { recordingKeyProblems } from '../../../config/residency/index.js';
import type { KeyWrapper } from './KeyWrapper.js';
import { KmsKeyWrapper } from './KmsKeyWrapper.js';
import { LocalKeyFile } from './LocalKeyFile.js';

/**
 * The KEK for `config`: the local key file in `dir` (made on first start), or the KMS key after its
 * placement is checked against `deploymentCountry` (the config's deployment.country, if any).
 * Throws ConfigError naming every problem.
 */
export async function keyWrapperFor(config: RecordingConfig, dir: string, deploymentCountry: string | undefined): Promise<KeyWrapper> {
  const wrapping = config.keyWrapping;
  if (wrapping.kind === 'local-file') return LocalKeyFile.open(dir);
  const problems = recordingKeyProblems(wrapping, deploymentCountry);
  if (problems.length > 0) throw new ConfigError('recording.keyWrapping', problems);
  return KmsKeyWrapper.forConfig(wrapping);
}
