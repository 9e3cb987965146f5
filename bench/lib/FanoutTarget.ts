// What a fan-out scenario needs from the SFU under test, whether Lectern or Janus.
import type { RtpTarget } from './RtpGenerator.js';
import type { Sink } from './Sink.js';

/**
 * How subscribers receive media: 'srtp' and 'plain-rtp' are PlainTransport consumers into the C
 * counting sink (with and without SRTP); 'webrtc' are werift peers (ICE + DTLS + SRTP).
 */
export type SubscriberKind = 'srtp' | 'plain-rtp' | 'webrtc';

/** One SFU set up with a single publisher, ready to take subscribers. */
export interface FanoutTarget {
  /** Short label for tables ("lectern", "janus"). */
  readonly name: string;
  /** Processes doing the forwarding; their CPU time and RSS are what is measured. */
  readonly pids: number[];
  /** Where the RTP generator sends video and audio. */
  readonly publisher: { video: RtpTarget; audio: RtpTarget };
  /** Human-readable layout ("1 worker", "2 workers + pipeToRouter", ...). */
  readonly layout: string;
  /**
   * Copies sent one sendmsg each because io_uring had no free slot (mediasoup's sqeMissCount +
   * userDataMissCount over all workers); undefined when the SFU does not send through io_uring.
   */
  ioUringFallbacks?(): Promise<number | undefined>;
  /**
   * Add `count` subscribers of the given kind that deliver into `sink`. An SFU with admission
   * control (Lectern) says how many it refused at capacity; those are not expected to receive.
   */
  addSubscribers(count: number, kind: SubscriberKind, sink: Sink): Promise<void | { refused: number }>;
  /** Tear everything down. Idempotent. */
  close(): Promise<void>;
}
