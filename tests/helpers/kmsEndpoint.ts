// A KMS endpoint on 127.0.0.1 speaking the AWS JSON 1.1 protocol (TrentService Encrypt/Decrypt),
// standing for the cloud as the Pulumi mocks do: AWS KMS cannot run here. The real
// @aws-sdk/client-kms talks to it through `endpoint`. It behaves as KMS does where Lectern depends
// on it: every request must carry a valid SigV4 signature for kms in its region with the known
// credentials; a ciphertext is bound to its key and its encryption context (AES-256-GCM with the
// canonical context as AAD), so Decrypt under another context fails with InvalidCiphertextException.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Credentials the endpoint accepts (a test puts them in the environment for the default provider chain). */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIALECTERNTEST00001', secretAccessKey: 'lectern-test-secret-access-key-000000001' };

/** One call the endpoint answered (or refused). */
export interface KmsCall {
  operation: string;
  keyId: string | undefined;
  context: Record<string, string> | undefined;
  /** The region the request was signed for. */
  signedRegion: string;
  /** The error type sent back, if any. */
  error?: string;
}

/** A running endpoint. */
export interface KmsEndpoint {
  /** http://127.0.0.1:<port> */
  url: string;
  region: string;
  /** The ARN of its one key. */
  keyArn: string;
  /** Every call, in order. */
  calls: KmsCall[];
  /** Every data key it was given to wrap (so a test can look for them on disk). */
  plaintexts: Buffer[];
  close(): Promise<void>;
}

const VERSION = 1;

/** An IAM policy statement on the key, as the Pulumi program writes the host role's (Action, Resource, Condition). */
export interface KeyStatement {
  Action: string[];
  Resource: string;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Options of an endpoint. */
export interface KmsEndpointOptions {
  /** Evaluate every call as the caller's IAM would: allowed only by this statement (built for the key's ARN). */
  policy?: (keyArn: string) => KeyStatement;
}

/** Start an endpoint with one symmetric key in `region`. */
export async function startKmsEndpoint(region: string, options: KmsEndpointOptions = {}, account = '111122223333'): Promise<KmsEndpoint> {
  const keyArn = `arn:aws:kms:${region}:${account}:key/${randomUUID()}`;
  const statement = options.policy?.(keyArn);
  const master = randomBytes(32);
  const keyTag = createHash('sha256').update(keyArn).digest().subarray(0, 16);
  const calls: KmsCall[] = [];
  const plaintexts: Buffer[] = [];

  const aad = (context: Record<string, string> | undefined): Buffer =>
    Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));

  const handle = (operation: string, body: Record<string, unknown>): Record<string, unknown> => {
    const context = body.EncryptionContext as Record<string, string> | undefined;
    if (statement && !allows(statement, `kms:${operation}`, keyArn, context)) {
      throw new KmsFault('AccessDeniedException', `User is not authorized to perform: kms:${operation} on resource: ${keyArn} because no identity-based policy allows it`);
    }
    if (operation === 'Encrypt') {
      if (body.KeyId !== keyArn) throw new KmsFault('NotFoundException', `Key '${String(body.KeyId)}' does not exist`);
      const plain = Buffer.from(String(body.Plaintext ?? ''), 'base64');
      if (plain.length < 1 || plain.length > 4096) throw new KmsFault('ValidationException', 'Plaintext must be 1 to 4096 bytes');
      plaintexts.push(plain);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', master, iv);
      cipher.setAAD(aad(context));
      const blob = Buffer.concat([Buffer.from([VERSION]), keyTag, iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { CiphertextBlob: blob.toString('base64'), KeyId: keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    }
    if (operation === 'Decrypt') {
      const blob = Buffer.from(String(body.CiphertextBlob ?? ''), 'base64');
      if (blob.length < 1 + 16 + 12 + 16 || blob[0] !== VERSION) throw new KmsFault('InvalidCiphertextException', 'The ciphertext is invalid');
      if (!blob.subarray(1, 17).equals(keyTag)) throw new KmsFault('IncorrectKeyException', 'The ciphertext was not encrypted under this key');
      if (body.KeyId !== undefined && body.KeyId !== keyArn) throw new KmsFault('IncorrectKeyException', 'The key ID in the request does not identify the key that encrypted the ciphertext');
      const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(17, 29));
      decipher.setAAD(aad(context));
      decipher.setAuthTag(blob.subarray(blob.length - 16));
      try {
        const plain = Buffer.concat([decipher.update(blob.subarray(29, blob.length - 16)), decipher.final()]);
        return { Plaintext: plain.toString('base64'), KeyId: keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } catch {
        // As KMS: a ciphertext under another encryption context is simply "invalid".
        throw new KmsFault('InvalidCiphertextException', '');
      }
    }
    throw new KmsFault('UnsupportedOperationException', `${operation} is not offered by this endpoint`);
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const raw = await readBody(request);
      const target = String(request.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
      const call: KmsCall = { operation, keyId: undefined, context: undefined, signedRegion: '' };
      try {
        if (request.method !== 'POST' || request.headers['content-type'] !== 'application/x-amz-json-1.1') throw new KmsFault('SerializationException', 'not an AWS JSON 1.1 request');
        call.signedRegion = verifySignature(request, raw, region);
        const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        call.keyId = typeof body.KeyId === 'string' ? body.KeyId : undefined;
        call.context = body.EncryptionContext as Record<string, string> | undefined;
        calls.push(call);
        send(response, 200, handle(operation, body));
      } catch (error) {
        if (!calls.includes(call)) calls.push(call);
        const fault = error instanceof KmsFault ? error : new KmsFault('KMSInternalException', (error as Error).message);
        call.error = fault.type;
        send(response, fault.type === 'KMSInternalException' ? 500 : 400, { __type: fault.type, message: fault.message });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    region,
    keyArn,
    calls,
    plaintexts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

class KmsFault extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const hmac = (key: Buffer | string, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * Check the request's AWS Signature Version 4 with the test credentials, for service kms in
 * `region`; returns the region signed for. Throws KmsFault as KMS would answer a bad signature.
 */
function verifySignature(request: IncomingMessage, body: Buffer, region: string): string {
  const header = String(request.headers.authorization ?? '');
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(header);
  if (!match) throw new KmsFault('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
  const [, accessKey = '', date = '', signedRegion = '', service = '', signedHeaders = '', signature = ''] = match;
  if (accessKey !== TEST_CREDENTIALS.accessKeyId) throw new KmsFault('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (service !== 'kms' || signedRegion !== region) throw new KmsFault('InvalidSignatureException', `Credential should be scoped to a valid region (kms in ${region}), not ${signedRegion}/${service}`);
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) throw new KmsFault('InvalidSignatureException', 'host and x-amz-date must be signed');
  const canonicalHeaders = names.map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const [path = '/', query = ''] = (request.url ?? '/').split('?');
  const canonicalRequest = ['POST', path, query, canonicalHeaders, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/${signedRegion}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${TEST_CREDENTIALS.secretAccessKey}`, date), signedRegion), service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  if (!timingSafeEqual(expected, Buffer.from(signature))) throw new KmsFault('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  return signedRegion;
}

/**
 * The subset of IAM evaluation the recording key's statement uses: the action and resource, the
 * `Null` condition on encryption-context keys, and `ForAllValues:StringEquals` on
 * kms:EncryptionContextKeys. Any other condition operator denies (default deny).
 */
function allows(statement: KeyStatement, action: string, resource: string, context: Record<string, string> | undefined): boolean {
  if (!statement.Action.includes(action) || statement.Resource !== resource) return false;
  const keys = Object.keys(context ?? {});
  for (const [operator, tests] of Object.entries(statement.Condition ?? {})) {
    for (const [name, expected] of Object.entries(tests)) {
      if (operator === 'Null' && name.startsWith('kms:EncryptionContext:')) {
        const present = keys.includes(name.slice('kms:EncryptionContext:'.length));
        if ((expected === 'false') !== present) return false;
      } else if (operator === 'ForAllValues:StringEquals' && name === 'kms:EncryptionContextKeys') {
        const allowed = [expected].flat() as string[];
        if (!keys.every((k) => allowed.includes(k))) return false;
      } else return false;
    }
  }
  return true;
}
