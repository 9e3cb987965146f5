// Envelope encryption: every recording has its own random data key, and only the data key wrapped
// by a key-encryption key (KEK) is stored. Destroying the wrapped data key makes every copy of the
// recording unreadable (crypto-shredding), without having to find and overwrite the copies.

/** What a data key is bound to when it is wrapped: it unwraps for this recording only. */
export interface KeyBinding {
  recordingId: string;
  /** The recording's room (in a KMS encryption context, so CloudTrail names it with every unwrap). */
  room: string;
}

/** A data key as stored: encrypted by a KEK, with what is needed to unwrap it. */
export interface WrappedKey {
  /** Which KEK wrapped it (a local key file's fingerprint, or a KMS key ARN). */
  kekId: string;
  /** How it was wrapped: 'local-aes-256-gcm' or 'kms'. */
  scheme: string;
  /** The wrapped key material, base64. */
  ciphertext: string;
  /** KMS: the encryption context it was wrapped under (KMS refuses to unwrap it under any other). */
  context?: Record<string, string> | undefined;
}

/** Wraps and unwraps data keys with a key-encryption key. */
export interface KeyWrapper {
  /** Identifies the KEK (goes into the manifest and the audit's map). */
  readonly kekId: string;
  /** Wrap a 32-byte data key, bound to a recording (AAD / encryption context). */
  wrap(dataKey: Buffer, binding: KeyBinding): Promise<WrappedKey>;
  /** Unwrap a data key; fails if it was wrapped for another recording or by another KEK. */
  unwrap(wrapped: WrappedKey, recordingId: string): Promise<Buffer>;
}
