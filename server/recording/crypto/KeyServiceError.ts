// The key service (KMS) could not be asked, or would not answer: not the same as a key that does
// not authenticate (IntegrityError). Recording cannot start without it; the edge says so clearly.

/** A key-encryption key that could not be used right now. */
export class KeyServiceError extends Error {
  /** The key service, in words for the person starting a recording (e.g. "AWS KMS in ca-central-1"). */
  readonly service: string;
  constructor(service: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyServiceError';
    this.service = service;
  }
}
