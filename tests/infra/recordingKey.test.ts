// Issue 16: recordings' data keys wrapped by an in-country KMS key, checked against the Pulumi
// program under mocks. In a region the program makes a single-Region key there (or uses the one the
// stack names, after checking it is in the country), writes recording.keyWrapping into the media
// host's server config, lets the host role only Encrypt/Decrypt/GenerateDataKey on it under the
// encryption-context condition, and lets the server (user lectern) reach that region's KMS. A
// Local Zone keeps the host's key file: KMS there would be the parent region's, in another country.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, KMS_CONTEXT_RECORDING, KMS_CONTEXT_ROOM } from '../../config/index.js';
import { recordingKeyProblems } from '../../config/residency/index.js';
import { planDeployment } from '../../infra/plan.js';
import { runProgram, stackConfig, type Recorded } from './support/harness.js';
import { cloudConfig, expectPoliciesPass, userDataOf } from './support/checks.js';
import type { EgressDestination } from '../../infra/egress/destinations.js';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const serverConfigOf = (resources: Recorded[]) => {
  const media = cloudConfig(userDataOf(resources, 'lectern-media-instance'));
  return parseConfig(JSON.parse(media.write_files.find((f) => f.path === '/etc/lectern/config.base.json')!.content));
};
const hostStatements = (resources: Recorded[]): Statement[] => {
  const policy = resources.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'lectern-host-policy')!;
  return (JSON.parse(String(policy.inputs.policy)) as { Statement: Statement[] }).Statement;
};
const actions = (s: Statement) => [s.Action].flat();
const targets = (s: Statement) => [s.Resource].flat();

describe('the recording key in a region placement (Canada, ca-west-1)', () => {
  it('is a single-Region key in the placement region, written into the media host\'s server config', async () => {
    const { resources, outputs } = await runProgram(stackConfig('Pulumi.example-ca.yaml'), 'lectern', 'example-ca');
    const key = resources.find((r) => r.type === 'aws:kms/key:Key' && r.name === 'lectern-recording-key-key')!;
    expect(key.inputs).toMatchObject({ multiRegion: false, customerMasterKeySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', enableKeyRotation: true, tags: { 'lectern:purpose': 'recordings' } });
    const provider = resources.find((r) => r.type === 'pulumi:providers:aws')!;
    expect(key.provider.startsWith(provider.urn)).toBe(true);
    expect(provider.inputs.region).toBe('ca-west-1');

    const server = serverConfigOf(resources);
    const wrapping = server.recording.keyWrapping;
    expect(wrapping).toMatchObject({ kind: 'aws-kms', region: 'ca-west-1', country: 'CA' });
    if (wrapping.kind !== 'aws-kms') throw new Error('unreachable');
    expect(wrapping.keyArn).toMatch(/^arn:aws:kms:ca-west-1:\d{12}:key\/[0-9a-f-]+$/);
    // What the server checks at start-up passes.
    expect(recordingKeyProblems(wrapping, 'CA')).toEqual([]);

    // The host role: exactly the three calls on that key, with the encryption-context condition.
    const granted = hostStatements(resources).filter((s) => targets(s).includes(wrapping.keyArn));
    expect(granted).toEqual([
      {
        Sid: 'RecordingDataKeys',
        Effect: 'Allow',
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: wrapping.keyArn,
        Condition: {
          Null: { [`kms:EncryptionContext:${KMS_CONTEXT_RECORDING}`]: 'false', [`kms:EncryptionContext:${KMS_CONTEXT_ROOM}`]: 'false' },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [KMS_CONTEXT_RECORDING, KMS_CONTEXT_ROOM] },
        },
      },
    ]);
    // No statement grants KMS on every key.
    expect(hostStatements(resources).filter((s) => actions(s).some((a) => a.startsWith('kms:')) && targets(s).includes('*'))).toEqual([]);

    // The server may reach KMS in its region; nothing else is added.
    const egress = (outputs.egressDestinations as { media: EgressDestination[] }).media;
    expect(egress.filter((d) => d.id === 'aws-kms')).toEqual([
      expect.objectContaining({ target: { kind: 'name', name: 'kms.ca-west-1.amazonaws.com' }, ports: [443], users: ['lectern'], country: 'CA' }),
    ]);
    await expectPoliciesPass(resources, 'CA');
  });

  it('uses a key the stack names when it is in the country, and refuses one abroad or multi-Region', async () => {
    const own = 'arn:aws:kms:ca-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const named = { 'lectern:recording': { keyWrapping: { kind: 'aws-kms', keyArn: own, region: 'ca-central-1', country: 'CA' } } };
    const { resources } = await runProgram(stackConfig('Pulumi.example-ca.yaml', named), 'lectern', 'example-ca');
    expect(resources.filter((r) => r.name.startsWith('lectern-recording-key'))).toEqual([]);
    expect(serverConfigOf(resources).recording.keyWrapping).toEqual({ kind: 'aws-kms', keyArn: own, region: 'ca-central-1', country: 'CA' });
    expect(hostStatements(resources).filter((s) => targets(s).includes(own)).map((s) => s.Sid)).toEqual(['RecordingDataKeys']);

    const abroad = { 'lectern:recording': { keyWrapping: { kind: 'aws-kms', keyArn: own.replace(/ca-central-1/g, 'us-east-1'), region: 'us-east-1', country: 'CA' } } };
    expect(() => planDeployment(stackConfig('Pulumi.example-ca.yaml', abroad))).toThrow(ConfigError);
    expect(() => planDeployment(stackConfig('Pulumi.example-ca.yaml', abroad))).toThrow(/outside CA/);
    const multi = { 'lectern:recording': { keyWrapping: { kind: 'aws-kms', keyArn: own.replace('key/', 'key/mrk-'), region: 'ca-central-1', country: 'CA' } } };
    expect(() => planDeployment(stackConfig('Pulumi.example-ca.yaml', multi))).toThrow(/multi-Region/);
    const otherCountry = { 'lectern:recording': { keyWrapping: { kind: 'aws-kms', keyArn: own, region: 'ca-central-1', country: 'US' } } };
    expect(() => planDeployment(stackConfig('Pulumi.example-ca.yaml', otherCountry))).toThrow(/deployment's country \(CA\)/);
  });
});

describe('the recording key in a Local Zone (Denmark, Copenhagen)', () => {
  it('no KMS key: the server keeps the local key file on the encrypted volume, and may not reach KMS', async () => {
    const { resources, outputs } = await runProgram(stackConfig('Pulumi.example-dk.yaml'), 'lectern', 'example-dk');
    expect(resources.filter((r) => r.type === 'aws:kms/key:Key')).toEqual([]);
    expect(serverConfigOf(resources).recording.keyWrapping).toEqual({ kind: 'local-file' });
    expect(hostStatements(resources).filter((s) => actions(s).some((a) => a.startsWith('kms:')))).toEqual([]);
    expect((outputs.egressDestinations as { media: EgressDestination[] }).media.map((d) => d.id)).not.toContain('aws-kms');
  });
});
