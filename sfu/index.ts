// Lectern's media engine. A leaf: imports mediasoup and nothing from server/.
export { Sfu, type SfuOptions, type SfuEvents } from './Sfu.js';
export { RoomMedia, type RoomMediaCloseReason } from './RoomMedia.js';
export { PeerMedia, type TrackSource, type TrackAppData, type TrackProducer, type TrackConsumer, type TransportInfo } from './PeerMedia.js';
export { LoudestSpeakers, type ConsumerGate, type LoudestSpeakersEvents } from './LoudestSpeakers.js';
export { SpeakerSelection, type SpeakerSelectionTuning, type Microphone } from './SpeakerSelection.js';
export { WorkerPool, type PooledWorker, type WorkerPoolOptions } from './WorkerPool.js';
export { SfuError, type SfuErrorReason } from './SfuError.js';
export { roomMediaCodecs } from './codecs.js';
export { TypedEmitter, type EventMap } from './TypedEmitter.js';
export type { types as mediasoupTypes } from 'mediasoup';
