// The deployment KEK: a single-Region AWS KMS key in the country (config recording.keyWrapping,
// checked at start-up by config/residency/recordingKey.ts). Data keys are wrapped with KMS Encrypt
// and unwrapped with Decrypt under an encryption context naming the recording and its room: KMS
// binds it like AAD (a wrapped key moved to another recording or room does not unwrap), writes it to
// CloudTrail with every call, and the host role's IAM policy admits no call without it. The data key
// is sent to KMS over TLS and never written anywhere in the clear; the KEK never leaves KMS.
// Credentials are the instance role's, through the SDK's default provider chain.
import { DecryptCommand, EncryptCommand, KMSClient, KMSServiceException } from '@aws-sdk/client-kms';
import { KMS_CONTEXT_RECORDING as CONTEXT_RECORDING, KMS_CONTEXT_ROOM as CONTEXT_ROOM, type KmsKeyWrappingConfig } from '../../../config/index.js';
import type { KeyBinding, KeyWrapper, WrappedKey } from './KeyWrapper.js';
import { DATA_KEY_BYTES, IntegrityError } from './chunkFormat.js';
import { KeyServiceError } from './KeyServiceError.js';


const SCHEME = 'kms';

/** KMS errors that mean "this ciphertext is not for this key and context", not "KMS is unavailable". */
const NOT_THIS_KEY = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/** Wraps data keys with a KMS key. */
export class KmsKeyWrapper implements KeyWrapper {
  /** The KMS key's ARN. */
  readonly kekId: string;
  readonly #client: KMSClient;
  readonly #service: string;

  /** A wrapper on the configured key, with a client in its region (and endpoint, when one is given). */
  static forConfig(config: KmsKeyWrappingConfig): KmsKeyWrapper {
    const client = new KMSClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      // A recording start waits on this: an unreachable KMS must fail in seconds, not minutes.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 5000 },
    });
    return new KmsKeyWrapper(client, config.keyArn, config.region);
  }

  /** Use the KMS key `keyArn` (in `region`) through `client`. */
  constructor(client: KMSClient, keyArn: string, region: string) {
    this.#client = client;
    this.kekId = keyArn;
    this.#service = `AWS KMS in ${region}`;
  }

  /** Wrap a data key for a recording of a room. */
  async wrap(dataKey: Buffer, binding: KeyBinding): Promise<WrappedKey> {
    if (dataKey.length !== DATA_KEY_BYTES) throw new RangeError('data key must be 32 bytes');
    if (!binding.recordingId || !binding.room) throw new RangeError('a data key is bound to a recording id and a room');
    const context = { [CONTEXT_RECORDING]: binding.recordingId, [CONTEXT_ROOM]: binding.room };
    let blob: Uint8Array | undefined;
    let keyId: string | undefined;
    try {
      ({ CiphertextBlob: blob, KeyId: keyId } = await this.#client.send(new EncryptCommand({ KeyId: this.kekId, Plaintext: dataKey, EncryptionContext: context })));
    } catch (error) {
      throw new KeyServiceError(this.#service, `${this.#service} did not wrap the data key: ${describe(error)}`, { cause: error });
    }
    if (!blob || blob.length === 0) throw new KeyServiceError(this.#service, `${this.#service} answered Encrypt without a ciphertext`);
    // KMS names the key it used; any other than ours would put the recording under a key we did not check.
    if (keyId !== this.kekId) throw new KeyServiceError(this.#service, `${this.#service} wrapped with ${String(keyId)}, not ${this.kekId}`);
    return { kekId: this.kekId, scheme: SCHEME, ciphertext: Buffer.from(blob).toString('base64'), context };
  }

  /** Unwrap a data key of `recordingId`, under the context it was wrapped with. */
  async unwrap(wrapped: WrappedKey, recordingId: string): Promise<Buffer> {
    if (wrapped.scheme !== SCHEME || wrapped.kekId !== this.kekId) throw new IntegrityError(`data key was wrapped by ${wrapped.scheme} ${wrapped.kekId}, not ${this.kekId}`);
    const context = wrapped.context;
    if (!context || context[CONTEXT_RECORDING] !== recordingId || !context[CONTEXT_ROOM] || Object.keys(context).length !== 2) {
      throw new IntegrityError(`the wrapped data key is not bound to recording ${recordingId}`);
    }
    let plaintext: Uint8Array | undefined;
    let keyId: string | undefined;
    try {
      ({ Plaintext: plaintext, KeyId: keyId } = await this.#client.send(
        new DecryptCommand({ KeyId: this.kekId, CiphertextBlob: Buffer.from(wrapped.ciphertext, 'base64'), EncryptionContext: context }),
      ));
    } catch (error) {
      if (error instanceof KMSServiceException && NOT_THIS_KEY.has(error.name)) {
        throw new IntegrityError(`${this.#service} refused to unwrap the data key of ${recordingId} (${error.name}): not wrapped for this recording, room and key`);
      }
      throw new KeyServiceError(this.#service, `${this.#service} did not unwrap the data key: ${describe(error)}`, { cause: error });
    }
    if (keyId !== this.kekId || !plaintext || plaintext.length !== DATA_KEY_BYTES) throw new IntegrityError(`${this.#service} returned no 32-byte data key of ${this.kekId}`);
    return Buffer.from(plaintext);
  }
}

/** One line about an SDK failure: the service's error name, or the network error's code. */
function describe(error: unknown): string {
  if (error instanceof KMSServiceException) return `${error.name}: ${error.message}`;
  const e = error as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'error';
  return `${code}${typeof e.message === 'string' && e.message ? ` (${e.message.slice(0, 200)})` : ''}`;
}
