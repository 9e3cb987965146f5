// The deployment KEK: a single-region KMS key in the country. Only its Encrypt/Decrypt are used, with
// the recording id as encryption context (KMS binds it like AAD and writes it to CloudTrail), so the
// data key never leaves the host in the clear and the key never leaves the region. The client is an
// interface: a deployment passes an adapter over @aws-sdk/client-kms; nothing here calls AWS.
import type { KeyWrapper, WrappedKey } from './KeyWrapper.js';
import { IntegrityError } from './chunkFormat.js';

/** The two KMS calls used, shaped like AWS KMS Encrypt and Decrypt. */
export interface KmsClient {
  /** KMS Encrypt: returns the ciphertext blob. */
  encrypt(request: { KeyId: string; Plaintext: Uint8Array; EncryptionContext: Record<string, string> }): Promise<{ CiphertextBlob: Uint8Array; KeyId: string }>;
  /** KMS Decrypt: returns the plaintext; KMS refuses a mismatched context or key. */
  decrypt(request: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: Record<string, string> }): Promise<{ Plaintext: Uint8Array; KeyId: string }>;
}

const SCHEME = 'kms';

/** Wraps data keys with a KMS key. */
export class KmsKeyWrapper implements KeyWrapper {
  /** The KMS key's ARN. */
  readonly kekId: string;
  readonly #client: KmsClient;

  /** Use the KMS key `keyArn` through `client`. The ARN's region is checked by the audit, not here. */
  constructor(client: KmsClient, keyArn: string) {
    this.#client = client;
    this.kekId = keyArn;
  }

  /** Wrap a data key for `recordingId`. */
  async wrap(dataKey: Buffer, recordingId: string): Promise<WrappedKey> {
    const { CiphertextBlob } = await this.#client.encrypt({ KeyId: this.kekId, Plaintext: dataKey, EncryptionContext: { recordingId } });
    return { kekId: this.kekId, scheme: SCHEME, ciphertext: Buffer.from(CiphertextBlob).toString('base64') };
  }

  /** Unwrap a data key of `recordingId`. */
  async unwrap(wrapped: WrappedKey, recordingId: string): Promise<Buffer> {
    if (wrapped.scheme !== SCHEME || wrapped.kekId !== this.kekId) throw new IntegrityError(`data key was wrapped by ${wrapped.scheme} ${wrapped.kekId}, not ${this.kekId}`);
    const { Plaintext } = await this.#client.decrypt({
      KeyId: this.kekId,
      CiphertextBlob: Buffer.from(wrapped.ciphertext, 'base64'),
      EncryptionContext: { recordingId },
    });
    return Buffer.from(Plaintext);
  }
}
