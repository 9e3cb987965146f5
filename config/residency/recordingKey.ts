// Where a recording key-encryption key is, from nothing but its ARN and the catalogue: the one rule
// the server (start-up), the Pulumi program (what it writes) and the audit (what it reports) share.
// A KMS key lives in exactly one region unless it is a multi-Region key (id `mrk-...`), whose
// replicas can be made in any region later: residency cannot be shown for one, so it is refused.
import { findRegion } from './catalogue.js';

/** The parts of a KMS key ARN. */
export interface KmsKeyArn {
  partition: string;
  region: string;
  account: string;
  /** `key` or `alias`. */
  resourceType: string;
  /** The key id (or alias name). */
  id: string;
  /** Multi-Region keys have ids starting `mrk-`. */
  multiRegion: boolean;
}

const ARN = /^arn:([a-z-]+):kms:([a-z0-9-]+):([0-9]{12}):([a-z]+)\/([A-Za-z0-9/_-]+)$/;

/** Parse a KMS key ARN; undefined for anything else (a bare id, an alias name). */
export function parseKmsKeyArn(arn: string): KmsKeyArn | undefined {
  const match = ARN.exec(arn);
  if (!match) return undefined;
  const [, partition = '', region = '', account = '', resourceType = '', id = ''] = match;
  return { partition, region, account, resourceType, id, multiRegion: id.startsWith('mrk-') };
}

/** What start-up is told about the KMS key: its ARN, the region it is called in, the country it must be in. */
export interface RecordingKeyPlacement {
  keyArn: string;
  region: string;
  country: string;
  endpoint?: string | undefined;
}

/**
 * Every reason the key may not wrap recordings, one line each (empty: it may). `deploymentCountry`
 * is the config's `deployment.country` when the file has one; it must agree with the key's country.
 */
export function recordingKeyProblems(key: RecordingKeyPlacement, deploymentCountry?: string): string[] {
  const at = 'recording.keyWrapping';
  const problems: string[] = [];
  const arn = parseKmsKeyArn(key.keyArn);
  if (!arn) return [`${at}.keyArn: ${key.keyArn} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`];
  if (arn.resourceType !== 'key') problems.push(`${at}.keyArn: an ${arn.resourceType} ARN names no key for certain (it can be pointed at a key elsewhere); give the key's own ARN`);
  if (arn.multiRegion) problems.push(`${at}.keyArn: ${arn.id} is a multi-Region key: replicas of it can exist in other regions and countries; use a single-Region key`);
  if (arn.region !== key.region) problems.push(`${at}.region: ${key.region} is not the key's region (${arn.region}, from its ARN)`);
  const region = findRegion(arn.region);
  if (!region) problems.push(`${at}.keyArn: region ${arn.region} is not in the residency catalogue: its country cannot be shown, so it is refused`);
  else {
    if (region.country !== key.country) problems.push(`${at}.keyArn: the key is in ${arn.region} (${region.city}, ${region.country}), outside ${key.country}`);
    if (region.partition !== 'aws' || arn.partition !== 'aws') problems.push(`${at}.keyArn: partition ${arn.partition} of ${arn.region} is not served`);
  }
  if (deploymentCountry !== undefined && deploymentCountry !== key.country) {
    problems.push(`${at}.country: ${key.country} is not the deployment's country (${deploymentCountry})`);
  }
  if (key.endpoint !== undefined) problems.push(...endpointProblems(key.endpoint, key.region));
  return problems;
}

/**
 * A KMS endpoint must be the region's own (regional, FIPS or a VPC interface endpoint there), over
 * TLS; a loopback address is this host (a local proxy, or a test's stand-in for the cloud).
 */
function endpointProblems(endpoint: string, region: string): string[] {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return [`recording.keyWrapping.endpoint: ${endpoint} is not a URL`];
  }
  const host = url.hostname;
  const loopback = host === '127.0.0.1' || host === '[::1]' || host === 'localhost';
  if (loopback) return [];
  const own = [`kms.${region}.amazonaws.com`, `kms-fips.${region}.amazonaws.com`];
  const inRegion = own.includes(host) || host.endsWith(`.kms.${region}.vpce.amazonaws.com`);
  const problems: string[] = [];
  if (!inRegion) problems.push(`recording.keyWrapping.endpoint: ${host} is not a KMS endpoint of ${region}`);
  if (url.protocol !== 'https:') problems.push(`recording.keyWrapping.endpoint: ${endpoint} is not https`);
  return problems;
}
