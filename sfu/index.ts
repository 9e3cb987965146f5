// Lectern's media engine. A leaf: imports mediasoup and nothing from server/. What it exports speaks
// Lectern (rooms, tracks, subscribers, load), never a mediasoup object: the server cannot reach one.
export { Sfu, type SfuOptions, type SfuEvents } from './Sfu.js';
export { RoomMedia, type RoomMediaCloseReason, type RoomMediaEvents } from './RoomMedia.js';
export { PeerMedia, type PeerMediaEvents, type TransportInfo, type ClientParameters } from './PeerMedia.js';
export { Track, type TrackSource, type TrackKind, type TrackCounts } from './Track.js';
export { Subscription } from './Subscription.js';
export { EdgeRoom, type EdgeRouterState } from './EdgeRoom.js';
export { EdgePeerMedia } from './EdgePeerMedia.js';
export type { EdgeLink, EdgePlace, EdgePipeState, EdgeConsumerInfo, PipeEnd, PipedTrack, PipeListen } from './EdgeLink.js';
export type { PipeState } from './RemotePipe.js';
export { Reception } from './Reception.js';
export { MediaCounters } from './MediaCounters.js';
export { TrackTap } from './TrackTap.js';
export type { Subscriber, SubscriberEvents } from './Subscriber.js';
export type { Audience } from './FanOut.js';
export { LoudestSpeakers, type ConsumerGate, type LoudestSpeakersEvents } from './LoudestSpeakers.js';
export { SpeakerSelection, type SpeakerSelectionTuning, type Microphone } from './SpeakerSelection.js';
export { WorkerPool, type PooledWorker, type WorkerPoolOptions } from './WorkerPool.js';
export { DEFAULT_CAPACITY, capacityRefusal, loadShare, type CapacityOptions, type CapacityRefusal, type CapacityLimit, type ForwardLoad, type WorkerLoad, type MediaLoad } from './Capacity.js';
export { UNMEASURED } from './TrackRates.js';
export { PlainSubscriber, type PlainSubscriberOptions, type PlainRemote, type PlainTransportInfo, type PlainSubscriberHost, type SrtpSuite } from './PlainSubscriber.js';
export { PlainPublisher, type PlainPublisherEvents } from './PlainPublisher.js';
export { mediasoupVersion, type MediaListener } from './MediaListeners.js';
export { SfuError, type SfuErrorReason } from './SfuError.js';
export { roomMediaCodecs } from './codecs.js';
export { TypedEmitter, type EventMap } from './TypedEmitter.js';
export { TRANSPORT_WIDE_CC, estimatesBandwidth } from './bandwidthEstimation.js';
// For the bench and tests, which drive mediasoup directly; server/ never imports it (grep-checked).
export type { types as mediasoupTypes } from 'mediasoup';
