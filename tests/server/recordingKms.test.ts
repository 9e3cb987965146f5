// Recording keys wrapped by an in-country KMS key (#16): the real @aws-sdk/client-kms, with the
// default credential provider chain, against a KMS endpoint on 127.0.0.1 speaking the KMS JSON
// protocol (tests/helpers/kmsEndpoint.ts: it stands for the cloud, as the Pulumi mocks do, and
// checks every request's SigV4 signature and binds ciphertexts to their encryption context). The
// encryption context names the recording and its room and is enforced; a wrong context does not
// unwrap; an unreachable KMS makes starting a recording fail with a clear error and nothing
// written; a key outside the country, a multi-Region key or a mismatched region stops start-up.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, ConfigError, type KmsKeyWrappingConfig } from '../../config/index.js';
import { recordingKeyProblems } from '../../config/residency/index.js';
import { RecordingStore } from '../../server/recording/RecordingStore.js';
import { RecordingService } from '../../server/recording/RecordingService.js';
import { KmsKeyWrapper } from '../../server/recording/crypto/KmsKeyWrapper.js';
import type { WrappedKey } from '../../server/recording/crypto/KeyWrapper.js';
import { AuditLog } from '../../audit/log/index.js';
import { startKmsEndpoint, TEST_CREDENTIALS, type KmsEndpoint } from '../helpers/kmsEndpoint.js';
import { recordingKeyStatement } from '../../infra/components/recordingKeyPolicy.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import type { SegmentMeta } from '../../sfu/recorder/types.js';

// The instance role's credentials reach the SDK through its default provider chain; here, from the
// environment (the chain's first source), as the endpoint expects them.
process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const REGION = 'ca-central-1';
const SECRET = 'kms-recording-test-secret-at-least-32-bytes';
const meta: SegmentMeta = {
  trackId: 'ada:camera', peerId: 'ada', kind: 'video', source: 'camera', codec: 'video/VP8',
  container: 'webm', index: 0, producerId: 'p1', startedAt: 1_700_000_000_000,
};
const CONTEXT = (recording: string, room: string) => ({ 'lectern:recording': recording, 'lectern:room': room });

let kms: KmsEndpoint;
const wrapping = (endpoint = kms.url): KmsKeyWrappingConfig => ({ kind: 'aws-kms', keyArn: kms.keyArn, region: REGION, country: 'CA', endpoint });
beforeAll(async () => {
  // The endpoint also evaluates each call against the host role's statement the Pulumi program
  // writes, so what the server sends is shown to be what the deployment's IAM admits.
  kms = await startKmsEndpoint(REGION, { policy: (keyArn) => recordingKeyStatement(keyArn) });
});
afterAll(async () => {
  await kms.close();
});
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-kms-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, with its bytes. */
async function filesUnder(dir: string): Promise<Buffer[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name))));
}

describe('the KMS key wrapper', () => {
  it('wraps each data key under an encryption context of recording and room, signed for the region; the data key is never on disk', async () => {
    const dir = await tempDir();
    const store = await RecordingStore.open(dir, KmsKeyWrapper.forConfig(wrapping()));
    const before = kms.calls.length;
    await store.create('rec1', { room: 'physics' });
    const plain = randomBytes(70_000);
    await store.writeSegment('rec1', meta, Readable.from([plain]));
    expect((await buffer((await store.openSegment('rec1', 'seg-0001')).stream)).equals(plain)).toBe(true);
    const calls = kms.calls.slice(before);
    expect(calls.map((c) => c.operation)).toEqual(['Encrypt', 'Decrypt', 'Decrypt']);
    for (const call of calls) expect(call).toEqual({ operation: call.operation, keyId: kms.keyArn, context: CONTEXT('rec1', 'physics'), signedRegion: REGION });
    expect((await store.manifest('rec1')).kekId).toBe(kms.keyArn);
    // The data key KMS was given is in no file, in no encoding.
    const dataKey = kms.plaintexts.at(-1)!;
    expect(dataKey).toHaveLength(32);
    for (const file of await filesUnder(dir)) {
      for (const form of [dataKey, Buffer.from(dataKey.toString('base64')), Buffer.from(dataKey.toString('hex'))]) expect(file.includes(form)).toBe(false);
    }
  });

  it('a wrong encryption context does not unwrap: KMS refuses it, and a key moved to another recording is refused', async () => {
    const dir = await tempDir();
    const wrapper = KmsKeyWrapper.forConfig(wrapping());
    const store = await RecordingStore.open(dir, wrapper);
    await store.create('rec1', { room: 'physics' });
    await store.create('rec2', { room: 'physics' });
    await store.writeSegment('rec1', meta, Readable.from([randomBytes(1000)]));
    const keyFile = join(dir, 'rec1', 'data-key.json');
    const wrapped = JSON.parse(await readFile(keyFile, 'utf8')) as WrappedKey;
    expect(wrapped).toMatchObject({ scheme: 'kms', kekId: kms.keyArn, context: CONTEXT('rec1', 'physics') });

    // The room changed in the stored context: KMS itself refuses the ciphertext.
    await writeFile(keyFile, JSON.stringify({ ...wrapped, context: CONTEXT('rec1', 'chemistry') }));
    const before = kms.calls.length;
    await expect(store.openSegment('rec1', 'seg-0001')).rejects.toMatchObject({ reason: 'integrity', message: expect.stringContaining('InvalidCiphertextException') });
    expect(kms.calls.slice(before)).toEqual([expect.objectContaining({ operation: 'Decrypt', context: CONTEXT('rec1', 'chemistry'), error: 'InvalidCiphertextException' })]);
    // Relabelled for another recording, context and all: KMS refuses it too.
    await expect(wrapper.unwrap({ ...wrapped, context: CONTEXT('rec2', 'physics') }, 'rec2')).rejects.toThrow(/InvalidCiphertextException/);
    expect(kms.calls.at(-1)).toMatchObject({ operation: 'Decrypt', error: 'InvalidCiphertextException' });
    // Copied as it is into another recording's folder: refused before KMS is asked.
    await writeFile(join(dir, 'rec2', 'data-key.json'), JSON.stringify(wrapped));
    const calls = kms.calls.length;
    await expect(wrapper.unwrap(wrapped, 'rec2')).rejects.toThrow(/not bound to recording rec2/);
    expect(kms.calls.length).toBe(calls);
    // Put back, it unwraps again.
    await writeFile(keyFile, JSON.stringify(wrapped));
    await expect(store.openSegment('rec1', 'seg-0001')).resolves.toHaveProperty('size', 1000);
  });

  it('a request signed with other credentials is refused by the endpoint (so the test endpoint does check)', async () => {
    const { KMSClient, EncryptCommand } = await import('@aws-sdk/client-kms');
    const client = new KMSClient({ region: REGION, endpoint: kms.url, credentials: { accessKeyId: TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' }, maxAttempts: 1 });
    await expect(client.send(new EncryptCommand({ KeyId: kms.keyArn, Plaintext: randomBytes(32), EncryptionContext: CONTEXT('x', 'y') }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    const other = new KMSClient({ region: 'us-east-1', endpoint: kms.url, maxAttempts: 1 });
    await expect(other.send(new EncryptCommand({ KeyId: kms.keyArn, Plaintext: randomBytes(32) }))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
  });

  it('the host role\'s statement admits what the wrapper sends and nothing else: no context, a missing room or an extra key is denied', async () => {
    const { KMSClient, EncryptCommand, DecryptCommand } = await import('@aws-sdk/client-kms');
    const client = new KMSClient({ region: REGION, endpoint: kms.url, maxAttempts: 1 });
    const encrypt = (context?: Record<string, string>) => client.send(new EncryptCommand({ KeyId: kms.keyArn, Plaintext: randomBytes(32), ...(context ? { EncryptionContext: context } : {}) }));
    await expect(encrypt()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(encrypt({ 'lectern:recording': 'r1' })).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(encrypt({ ...CONTEXT('r1', 'physics'), purpose: 'other' })).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const { CiphertextBlob } = await encrypt(CONTEXT('r1', 'physics'));
    await expect(client.send(new DecryptCommand({ KeyId: kms.keyArn, CiphertextBlob }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(client.send(new DecryptCommand({ KeyId: kms.keyArn, CiphertextBlob, EncryptionContext: CONTEXT('r1', 'physics') }))).resolves.toHaveProperty('KeyId', kms.keyArn);
  });
});

describe('start-up: the KMS key must be in the deployment country (default deny)', () => {
  const arn = (region: string, id = '1234abcd-12ab-34cd-56ef-1234567890ab') => `arn:aws:kms:${region}:111122223333:key/${id}`;
  it('refuses a key abroad, a multi-Region key, an alias, a region that is not the key\'s, an uncatalogued region, a foreign endpoint', () => {
    expect(recordingKeyProblems({ keyArn: arn('ca-central-1'), region: 'ca-central-1', country: 'CA' })).toEqual([]);
    expect(recordingKeyProblems({ keyArn: arn('ca-central-1'), region: 'ca-central-1', country: 'CA', endpoint: 'https://vpce-0a1b-xyz.kms.ca-central-1.vpce.amazonaws.com' })).toEqual([]);
    expect(recordingKeyProblems({ keyArn: arn('us-east-1'), region: 'us-east-1', country: 'CA' })).toEqual([expect.stringContaining('outside CA')]);
    expect(recordingKeyProblems({ keyArn: arn('ca-central-1', 'mrk-1234abcd12ab34cd56ef1234567890ab'), region: 'ca-central-1', country: 'CA' })).toEqual([expect.stringContaining('multi-Region')]);
    expect(recordingKeyProblems({ keyArn: 'arn:aws:kms:ca-central-1:111122223333:alias/lectern', region: 'ca-central-1', country: 'CA' })).toEqual([expect.stringContaining('alias')]);
    expect(recordingKeyProblems({ keyArn: arn('ca-central-1'), region: 'ca-west-1', country: 'CA' })).toEqual([expect.stringContaining("not the key's region")]);
    expect(recordingKeyProblems({ keyArn: arn('xx-nowhere-9'), region: 'xx-nowhere-9', country: 'CA' })).toEqual([expect.stringContaining('not in the residency catalogue')]);
    expect(recordingKeyProblems({ keyArn: arn('ca-central-1'), region: 'ca-central-1', country: 'CA' }, 'DE')).toEqual([expect.stringContaining("deployment's country (DE)")]);
    expect(recordingKeyProblems({ keyArn: arn('ca-central-1'), region: 'ca-central-1', country: 'CA', endpoint: 'https://kms.us-east-1.amazonaws.com' })).toEqual([expect.stringContaining('not a KMS endpoint of ca-central-1')]);
    expect(recordingKeyProblems({ keyArn: 'alias/lectern', region: 'ca-central-1', country: 'CA' })).toEqual([expect.stringContaining('not a KMS key ARN')]);
  });

  it('the server does not start with such a key, and the config schema refuses unknown keys', async () => {
    const dir = await tempDir();
    const auditLog = await AuditLog.open(await tempDir());
    cleanups.push(() => auditLog.close());
    const open = (keyWrapping: unknown, deploymentCountry?: string) =>
      RecordingService.open({
        config: parseConfig({ recording: { dir, keyWrapping } }).recording,
        auditLog,
        log: pino({ level: 'silent' }),
        deploymentCountry,
      });
    await expect(open({ kind: 'aws-kms', keyArn: arn('eu-central-1'), region: 'eu-central-1', country: 'CA' })).rejects.toBeInstanceOf(ConfigError);
    await expect(open({ kind: 'aws-kms', keyArn: arn('ca-central-1'), region: 'ca-central-1', country: 'CA' }, 'DE')).rejects.toThrow(/deployment's country/);
    await expect(open({ kind: 'aws-kms', keyArn: arn('ca-central-1', 'mrk-00aa'), region: 'ca-central-1', country: 'CA' })).rejects.toThrow(/multi-Region/);
    // Nothing was made for a server that did not start.
    expect(await readdir(dir)).toEqual([]);
    expect(() => parseConfig({ recording: { keyWrapping: { kind: 'aws-kms', keyArn: arn('ca-central-1'), region: 'ca-central-1', country: 'CA', grants: [] } } })).toThrow(ConfigError);
    expect(() => parseConfig({ recording: { keyWrapping: { kind: 'aws-kms', region: 'ca-central-1', country: 'CA' } } })).toThrow(ConfigError);
    expect(parseConfig({}).recording.keyWrapping).toEqual({ kind: 'local-file' });
  });
});

describe('a server recording under the KMS key', () => {
  let lectern: TestLectern | undefined;
  const clients: SignallingClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await lectern?.close();
    lectern = undefined;
  });

  async function instructor(server: TestLectern, room: string) {
    const client = await SignallingClient.connect(server.wsUrl);
    clients.push(client);
    const token = await server.authenticator.issueRoomToken({ room, role: 'instructor', subject: `teacher-${room}@uni.example` });
    const joined = await client.ok('join', { room, displayName: 'Teacher', token });
    await client.ok('createTransport', { direction: 'recv' });
    await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    return { client, token, peerId: joined.peerId as string };
  }

  it('records and plays back with every data key wrapped by KMS under its recording and room', async () => {
    lectern = await startLectern({ auth: { tokenSecret: SECRET }, recording: { keyWrapping: wrapping() } });
    const { client, token, peerId } = await instructor(lectern, 'kms-room');
    const before = kms.calls.length;
    const id = (await client.ok('startRecording', {})).recordingId as string;
    const plain = randomBytes(20_000);
    const stored = await lectern.recordings.store.writeSegment(id, { ...meta, trackId: `${peerId}:camera`, peerId }, Readable.from([plain]));
    await client.ok('stopRecording', {});
    await lectern.recordings.settled(id);
    expect(kms.calls[before]).toEqual({ operation: 'Encrypt', keyId: kms.keyArn, context: CONTEXT(id, 'kms-room'), signedRegion: REGION });
    expect((await lectern.recordings.info(id)).kekId).toBe(kms.keyArn);
    const played = await lectern.app.inject({ method: 'GET', url: `/recordings/${id}/tracks/${stored.segmentId}`, headers: { authorization: `Bearer ${token}` } });
    expect(played.statusCode).toBe(200);
    expect(played.rawPayload.equals(plain)).toBe(true);
    expect(kms.calls.slice(before).every((c) => c.error === undefined && c.context?.['lectern:recording'] === id)).toBe(true);
  });

  it('KMS gone after recording: playback and export answer 503 naming the key service (not a 500)', async () => {
    const own = await startKmsEndpoint(REGION);
    cleanups.push(() => own.close());
    lectern = await startLectern({ auth: { tokenSecret: SECRET }, recording: { keyWrapping: { kind: 'aws-kms', keyArn: own.keyArn, region: REGION, country: 'CA', endpoint: own.url } } });
    const { client, token, peerId } = await instructor(lectern, 'kms-later');
    const id = (await client.ok('startRecording', {})).recordingId as string;
    const stored = await lectern.recordings.store.writeSegment(id, { ...meta, trackId: `${peerId}:camera`, peerId }, Readable.from([randomBytes(5000)]));
    await client.ok('stopRecording', {});
    await lectern.recordings.settled(id);
    await own.close();
    const auth = { authorization: `Bearer ${token}` };
    for (const url of [`/recordings/${id}/tracks/${stored.segmentId}`, `/recordings/${id}`, `/recordings/${id}/export`]) {
      const refused = await lectern.app.inject({ method: 'GET', url, headers: auth });
      expect(refused.statusCode, url).toBe(503);
      expect(refused.json(), url).toMatchObject({ error: { code: 'unavailable', message: expect.stringContaining('AWS KMS in ca-central-1 did not answer') } });
    }
  });

  it('KMS unreachable: starting a recording fails with a clear error, and nothing is written', async () => {
    const gone = await startKmsEndpoint(REGION);
    await gone.close(); // its port now refuses connections
    lectern = await startLectern({ auth: { tokenSecret: SECRET }, recording: { keyWrapping: { kind: 'aws-kms', keyArn: gone.keyArn, region: REGION, country: 'CA', endpoint: gone.url } } });
    const { client } = await instructor(lectern, 'kms-down');
    const refused = await client.send('startRecording', {});
    expect(refused).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(/recording could not start.*AWS KMS in ca-central-1.*nothing was recorded/) } });
    expect(await readdir(lectern.config.recording.dir)).toEqual([]);
    expect(await lectern.recordings.list()).toEqual([]);
    // The class goes on, unrecorded.
    expect(await client.ok('sendChat', { text: 'still here' })).toHaveProperty('messageId');
  });
});
