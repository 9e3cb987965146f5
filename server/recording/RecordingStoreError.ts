// Errors of the recording store, with a reason the HTTP/WS edge maps to a status in one place.

/** Why a store operation was refused. */
export type RecordingStoreErrorReason =
  | 'invalid_id' // a recording or segment id that is not of the allowed shape
  | 'not_found' // no such recording or segment
  | 'exists' // create() of an id already in the store
  | 'busy' // a segment of the recording is still being written
  | 'key_destroyed' // the data key was shredded: the ciphertext can never be read again
  | 'integrity'; // the ciphertext or manifest does not authenticate / match its hash

/** A refused store operation. */
export class RecordingStoreError extends Error {
  /** Machine-readable reason. */
  readonly reason: RecordingStoreErrorReason;
  constructor(reason: RecordingStoreErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecordingStoreError';
    this.reason = reason;
  }
}
