// The keys that wrap recordings' data keys, from every input that names one: the config
// (recording.keyWrapping), the live server (the KEK of new recordings and of every kept one, by
// id: a KMS key ARN or `local:<fingerprint>`), and the stack (KMS keys for recordings). Where a KMS
// key is comes from its ARN's region or the resource's region, through the catalogue; whether it is
// multi-Region from its id (`mrk-`) or its `multiRegion` input. Whoever holds the key can read every
// recording it wraps, so each is a flow at its place, and a key abroad is a flow outside the country.
import { parseKmsKeyArn } from '../../config/residency/index.js';
import type { AuditInputs, Flow, Location } from './types.js';
import { awsLocation } from './places.js';
import { purposeOf } from './stackFacts.js';

/** One key wrapping recordings, as an input shows it. */
export interface RecordingKeyFact {
  kind: 'kms' | 'local-file';
  /** The key ARN, `local:<fingerprint>`, or the resource name. */
  id: string;
  /** AWS region of a KMS key; undefined when not derivable. */
  region: string | undefined;
  /** True for a multi-Region key (or a replica), false for single-Region, undefined when not shown. */
  multiRegion: boolean | undefined;
  /** How the region was derived. */
  basis: string;
  /** The input that showed it. */
  seenIn: string;
  /** The stack resource, for stack facts. */
  urn?: string;
}

const STACK_KEYS = new Set(['aws:kms/key:Key', 'aws:kms/replicaKey:ReplicaKey', 'aws:kms/externalKey:ExternalKey', 'aws:kms/replicaExternalKey:ReplicaExternalKey']);

/** Every recording key the inputs show, deduplicated by id. */
export function recordingKeyFacts(inputs: AuditInputs): RecordingKeyFact[] {
  const facts = new Map<string, RecordingKeyFact>();
  const addId = (id: string, basis: string, seenIn: string): void => {
    if (facts.has(id)) return;
    if (id.startsWith('local:')) {
      facts.set(id, { kind: 'local-file', id, region: undefined, multiRegion: false, basis, seenIn });
      return;
    }
    const arn = parseKmsKeyArn(id);
    facts.set(id, { kind: 'kms', id, region: arn?.region, multiRegion: arn ? arn.multiRegion : undefined, basis: arn ? `region of the key ARN ${id} (${basis})` : `${basis}: ${id} is not a key ARN, its region cannot be derived`, seenIn });
  };
  const wrapping = inputs.config?.config.recording.keyWrapping;
  if (wrapping?.kind === 'aws-kms') addId(wrapping.keyArn, `recording.keyWrapping.keyArn in the config ${inputs.config!.source}`, `config ${inputs.config!.source}`);
  const listing = inputs.runtime?.runtime.recordings;
  if (listing) {
    const seenIn = `live server ${inputs.runtime!.source}`;
    addId(listing.kekId, 'the KEK the live server wraps new recordings with', seenIn);
    for (const item of listing.items) addId(item.kekId, `the KEK of kept recording ${item.id}`, seenIn);
  }
  for (const r of inputs.stack?.export.resources ?? []) {
    if (!STACK_KEYS.has(r.type) || purposeOf(r) !== 'recordings') continue;
    const arn = typeof r.outputs.arn === 'string' ? r.outputs.arn : undefined;
    const replica = r.type.includes('replica');
    const multi = replica || r.inputs.multiRegion === true || r.outputs.multiRegion === true || (arn ? parseKmsKeyArn(arn)?.multiRegion === true : false);
    const id = arn ?? r.urn;
    const existing = facts.get(id);
    const fact: RecordingKeyFact = { kind: 'kms', id, region: r.region ?? existing?.region, multiRegion: multi || existing?.multiRegion === true, basis: `key ${r.name}: ${r.regionSource}`, seenIn: `stack export ${inputs.stack!.source}`, urn: r.urn };
    facts.set(id, fact);
  }
  return [...facts.values()];
}

/** A flow per recording key: where it is (a local key file is where the server is). */
export function recordingKeyFlows(facts: readonly RecordingKeyFact[], host: Location): Array<Omit<Flow, 'id' | 'active' | 'operator'>> {
  return facts.map((fact) => ({
    kind: 'storage' as const,
    label: fact.kind === 'kms' ? `Recording key (KMS ${fact.id})` : `Recording key (key file on the server, ${fact.id})`,
    location: fact.kind === 'kms' ? awsLocation(fact.region, fact.basis) : { ...host, basis: `${fact.basis}: the key file beside the recordings on the server host` },
    readers: fact.kind === 'kms' ? 'whoever the key policy and IAM let decrypt with it (the media hosts); AWS' : 'the server host (the file is 0600)',
    encryption: fact.kind === 'kms' ? `KMS key, ${fact.multiRegion === true ? 'MULTI-REGION' : fact.multiRegion === false ? 'single-Region' : 'Region scope not shown'}; wraps each recording's data key` : 'wraps each recording\'s data key (AES-256-GCM)',
    retention: 'while recordings need it; destroying a data key shreds its recording',
    // Whoever holds it can read every recording: judged as the recordings are.
    personalData: true,
    seenIn: [fact.seenIn],
  }));
}
