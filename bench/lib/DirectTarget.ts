// The baseline: the generator sends straight into the sink, no SFU in between. Its latency is what
// loopback, the sink thread and timer scheduling add on their own; SFU rows include it too.
import type { FanoutTarget } from './FanoutTarget.js';
import type { Sink } from './Sink.js';

/** Generator -> sink with nothing in between (one "subscriber"). */
export class DirectTarget implements FanoutTarget {
  readonly name = 'none (baseline)';
  readonly layout = 'generator -> sink';
  readonly pids: number[] = [];
  readonly publisher: FanoutTarget['publisher'];

  /** Open the sink sockets the generator will send to. */
  static async create(sink: Sink): Promise<DirectTarget> {
    const { ports } = await sink.openPlain(2);
    return new DirectTarget(ports[0]!, ports[1]!);
  }

  private constructor(videoPort: number, audioPort: number) {
    this.publisher = { video: { host: '127.0.0.1', port: videoPort }, audio: { host: '127.0.0.1', port: audioPort } };
  }

  /** Nothing to add: the sink already receives the one stream pair. */
  async addSubscribers(): Promise<void> {}

  /** Nothing to close. */
  async close(): Promise<void> {}
}
