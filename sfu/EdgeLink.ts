// What a room's home node asks of an edge node, in Lectern's terms: the seam between the media
// plane and the node-to-node control channel. sfu/ calls it (RemotePipe, EdgePeerMedia); the server
// implements it over its authenticated internal RPC (server/cluster/RpcEdgeLink.ts), so sfu/ stays a
// leaf that knows no HTTP. One link is one room on one edge node.
import type { types } from 'mediasoup';
import type { TransportInfo } from './PeerMedia.js';
import type { TrackKind, TrackSource } from './Track.js';

/** One end of a media pipe between hosts: where it listens, and the SRTP key it sends with. */
export interface PipeEnd {
  ip: string;
  port: number;
  srtpParameters: types.SrtpParameters;
}

/** A track as it is produced on the edge: the same id as on the home node. */
export interface PipedTrack {
  id: string;
  kind: TrackKind;
  source: TrackSource;
  peerId: string;
  /** Shape-checked by the control channel; the edge's worker checks the content. */
  rtpParameters: object;
  paused: boolean;
}

/** What an edge answers for a consumer it made for an edge subscriber. */
export interface EdgeConsumerInfo {
  id: string;
  kind: TrackKind;
  type: types.ConsumerType;
  rtpParameters: types.RtpParameters;
  producerPaused: boolean;
}

/** What the edge node's pipe transports report (read from mediasoup's dump there). */
export interface EdgePipeState {
  id: string;
  srtp: boolean;
  rtx: boolean;
  producers: number;
}

/** One room on one edge node, as its home node drives it. */
export interface EdgeLink {
  /** The edge node's id. */
  readonly nodeId: string;
  /** Open the edge's end of pipe `pipeId` (SRTP and RTX on), connected to `home`; returns the edge end. */
  openPipe(pipeId: string, home: PipeEnd): Promise<PipeEnd>;
  /** Produce a piped track on the edge, on pipe `pipeId`. */
  produce(pipeId: string, track: PipedTrack): Promise<void>;
  /** The publisher muted, unmuted or ended a piped track. */
  trackState(trackId: string, state: 'paused' | 'resumed' | 'closed'): Promise<void>;
  /** Close the edge's end of a pipe (and the tracks produced on it). */
  closePipe(pipeId: string): Promise<void>;
  /** The edge's pipe ends, as its mediasoup reports them. */
  pipes(): Promise<EdgePipeState[]>;
  /**
   * A receive transport for a subscriber; `due`: the consumers the home expects it to hold (the
   * room's tracks under its caps), so the edge can place a class arriving together before any track is piped.
   */
  createTransport(subscriberId: string, due: number): Promise<TransportInfo>;
  /** Hand the browser's DTLS parameters to its edge transport. */
  connectTransport(transportId: string, dtlsParameters: object): Promise<void>;
  /** New ICE credentials for an edge transport. */
  restartIce(transportId: string): Promise<types.IceParameters>;
  /** A paused consumer of a piped track on an edge transport. */
  consume(transportId: string, trackId: string, rtpCapabilities: object): Promise<EdgeConsumerInfo>;
  /** Pause, resume or close an edge consumer. */
  consumer(consumerId: string, action: 'pause' | 'resume' | 'close'): Promise<void>;
  /** Cap an edge consumer's simulcast layers. */
  preferLayers(consumerId: string, spatialLayer: number, temporalLayer: number): Promise<void>;
  /** The edge subscriber left: close its transports there. */
  closeSubscriber(subscriberId: string): Promise<void>;
}

/** Where a subscriber of a room is placed on an edge node: the link, and how pipes listen here. */
export interface EdgePlace {
  link: EdgeLink;
  /** The home's private address and UDP port range for its pipe ends. */
  pipeListen: PipeListen;
}

/** Where this node's pipe ends listen. */
export interface PipeListen {
  ip: string;
  portMin: number;
  portMax: number;
}
