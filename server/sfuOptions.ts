// How the media plane is started from the config: the one mapping, for the server, the tests'
// in-process Lectern and the bench's node processes (each used to write it out again).
import type { LecternConfig } from '../config/index.js';
import type { SfuOptions } from '../sfu/index.js';

/** Sfu.create options from `config.media` (callers override what a test or bench must, e.g. the listen port). */
export function sfuOptions(config: LecternConfig): SfuOptions {
  const { media } = config;
  return {
    workers: media.workers,
    listenIp: media.listenIp,
    announcedAddress: media.announcedAddress,
    rtcPort: media.rtcPort,
    logLevel: media.workerLogLevel,
    ioUring: media.ioUring,
    maxIncomingBitrate: media.maxIncomingBitrate,
    initialAvailableOutgoingBitrate: media.initialAvailableOutgoingBitrate,
    capacity: media.capacity,
  };
}
