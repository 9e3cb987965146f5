// Messages between the bench's main thread and its sink thread.

/** A request to the sink thread. */
export type SinkRequest =
  | { op: 'openPlain'; sockets: number }
  | { op: 'subscribe'; offer: string }
  | { op: 'window'; start: number; end: number }
  | { op: 'report' }
  | { op: 'close' };

/** What the sink counted inside the current window. */
export interface SinkReport {
  /** Packets whose marker counter lies in the window, over all subscribers. */
  received: number;
  /** Distinct SSRCs seen in the window (2 per subscriber: audio + video). */
  streams: number;
  /** Fewest / most window packets on one stream. */
  minPerStream: number;
  maxPerStream: number;
  /** Latency histogram buckets (see LatencyHistogram). */
  histogram: Uint32Array;
  /** WebRTC subscribers currently connected. */
  connectedPeers: number;
  /** Effective SO_RCVBUF of the plain sockets, bytes. */
  recvBufferBytes: number;
  /** SRTP packets the C sink could not decrypt or authenticate in the window (not in `received`). */
  srtpFailures: number;
}
