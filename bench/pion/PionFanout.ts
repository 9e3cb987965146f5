// pion/webrtc under the same lecture load as Lectern and Janus: the generator feeds the SFU's two
// plain-RTP sockets, and every subscriber is a werift WebRTC peer (the SFU offers, as Janus does).
import type { FanoutTarget, SubscriberKind } from '../lib/FanoutTarget.js';
import type { Sink } from '../lib/Sink.js';
import { waitForExit } from '../lib/proc.js';
import { inBatches } from '../lib/inBatches.js';
import { PionServer, type PionNackMode } from './PionServer.js';

/** Options for a pion fan-out. */
export interface PionFanoutOptions {
  /** 'nack': pion's default interceptors (NACK responder per subscriber, RTCP reports); 'no-nack': none. */
  mode: PionNackMode;
  /** GOMAXPROCS for the SFU process (default 1: one core, as Lectern's one worker and Janus's one event loop). */
  gomaxprocs?: number;
}

/** The pion SFU under fan-out load. */
export class PionFanout implements FanoutTarget {
  readonly name: string;
  readonly layout: string;
  readonly publisher: FanoutTarget['publisher'];
  readonly #server: PionServer;
  #closed = false;

  /** Start a fresh pion SFU. */
  static async create(options: PionFanoutOptions): Promise<PionFanout> {
    const gomaxprocs = options.gomaxprocs ?? 1;
    return new PionFanout(await PionServer.create(options.mode, { gomaxprocs }), options.mode, gomaxprocs);
  }

  private constructor(server: PionServer, mode: PionNackMode, gomaxprocs: number) {
    this.#server = server;
    this.name = `pion (${mode})`;
    this.layout = `1 process, GOMAXPROCS=${gomaxprocs}`;
    this.publisher = {
      video: { host: '127.0.0.1', port: server.videoPort },
      audio: { host: '127.0.0.1', port: server.audioPort },
    };
  }

  /** The SFU process. */
  get pids(): number[] {
    return [this.#server.pid];
  }

  /** Add werift subscribers, ten signalling at a time (as for Janus). */
  async addSubscribers(count: number, kind: SubscriberKind, sink: Sink): Promise<void> {
    if (kind !== 'webrtc') throw new Error('the pion SFU has WebRTC subscribers only');
    await inBatches(count, 10, () => this.#server.subscribe((offer) => sink.subscribe(offer)));
  }

  /** Stop the SFU. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pid = this.#server.pid;
    await this.#server.close();
    await waitForExit(pid);
  }
}
