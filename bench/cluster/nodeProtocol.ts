// The IPC between the cluster fan-out scenario and its node processes (fanoutNode.ts). Bench-internal:
// both ends are this bench's own code, so the messages are typed, not schema-checked.
import type { SrtpSuite } from '../../sfu/index.js';

/** One subscription's stream as the sink must know it to decrypt it. */
export interface SinkStream {
  /** The subscriber it is one of the subscriptions of. */
  subscriber: string;
  port: number;
  ssrc: number;
  keyBase64: string;
}

/** Add plain SRTP subscribers into the sink sockets `ports` (round robin), ids `${prefix}${i}`. */
export interface AddSubscribers {
  op: 'addSubscribers' | 'addEdgeSubscribers';
  count: number;
  prefix: string;
  ports: number[];
  suite: SrtpSuite;
}

export type NodeRequest = AddSubscribers | { op: 'resume' } | { op: 'state' } | { op: 'close' };

/** What an add got: streams of those receiving here, how many the home sent to an edge, and how many nobody took. */
export interface Added {
  streams: SinkStream[];
  /** Subscribers now receiving on this node. */
  here: number;
  /** (Home) past its share: the product placed them on this edge node. */
  toEdge: { nodeId: string; count: number }[];
  /** Refused at_capacity by the home and every edge. */
  refused: number;
  /** (Home) the product's words when its admission first refused one: where the home's share ended. */
  homeFull?: string;
}

/** The home's view of its pipes (mediasoup's dumps at both ends). */
export interface PipeReport {
  edgeNodeId: string;
  homeSrtp: boolean;
  homeRtx: boolean;
  edgeSrtp: boolean | undefined;
  edgeRtx: boolean | undefined;
  producers: number;
}

export type NodeReply =
  | ({ op: 'added' } & Added)
  | { op: 'ok' }
  | { op: 'state'; pipes: PipeReport[]; edgeSubscribers: number; edgeRoutersSeen: number }
  | { op: 'error'; message: string };
