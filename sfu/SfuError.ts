// Errors the media engine reports on purpose. The server maps `reason` to a wire error code in one
// place; anything else thrown from here is a bug and reaches clients only as "internal".

/** Why a media operation was refused. */
export type SfuErrorReason =
  | 'not_found' // no transport/producer/consumer with that id belongs to this peer
  | 'rejected' // mediasoup refused the parameters (bad RTP/DTLS parameters, wrong direction)
  | 'cannot_consume' // the peer's device cannot decode that producer's codec
  | 'no_recv_transport' // consuming needs a receive transport first
  | 'unavailable' // no live media worker
  | 'at_capacity' // the workers carry all they can without loss: a new subscriber would degrade the others
  | 'closed'; // the room or peer media is already closed

/** A refused media operation, with a reason the server can map to the wire. */
export class SfuError extends Error {
  /** Machine-readable reason. */
  readonly reason: SfuErrorReason;
  constructor(reason: SfuErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SfuError';
    this.reason = reason;
  }
}

/** Run a mediasoup call and report its refusal as `rejected` instead of an anonymous Error. */
export async function rejectedOnError<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SfuError) throw error;
    throw new SfuError('rejected', `${what}: ${(error as Error).message}`, { cause: error });
  }
}
