// Janus under the same lecture load: the generator feeds the streaming mountpoint over plain RTP,
// and every subscriber is a werift WebRTC peer watching it (Janus only delivers to viewers over
// ICE + DTLS-SRTP, so there is no plain-RTP subscriber on this side).
import type { FanoutTarget, SubscriberKind } from '../lib/FanoutTarget.js';
import type { Sink } from '../lib/Sink.js';
import { JanusSession } from './JanusApi.js';
import { JanusServer, MOUNTPOINT_ID } from './JanusServer.js';
import { waitForExit } from '../lib/proc.js';
import { inBatches } from '../lib/inBatches.js';

/** Janus's streaming plugin under fan-out load. */
export class JanusFanout implements FanoutTarget {
  readonly name = 'janus';
  readonly layout = '1 process, event_loops=1';
  readonly publisher: FanoutTarget['publisher'];
  readonly #server: JanusServer;
  readonly #session: JanusSession;
  #closed = false;

  /** Start a fresh Janus with its mountpoint. */
  static async create(): Promise<JanusFanout> {
    const server = await JanusServer.create();
    try {
      return new JanusFanout(server, await JanusSession.create(server.url));
    } catch (error) {
      await server.close();
      throw error;
    }
  }

  private constructor(server: JanusServer, session: JanusSession) {
    this.#server = server;
    this.#session = session;
    this.publisher = {
      video: { host: '127.0.0.1', port: server.videoPort },
      audio: { host: '127.0.0.1', port: server.audioPort },
    };
  }

  /** The janus process. */
  get pids(): number[] {
    return [this.#server.pid];
  }

  /** Add werift viewers of the mountpoint. */
  async addSubscribers(count: number, kind: SubscriberKind, sink: Sink): Promise<void> {
    if (kind !== 'webrtc') throw new Error('Janus streaming viewers are WebRTC only');
    await inBatches(count, 10, async () => {
      const handle = await this.#session.attachStreaming();
      const offer = await this.#session.watch(handle, MOUNTPOINT_ID);
      await this.#session.start(handle, await sink.subscribe(offer));
    });
  }

  /** Stop janus. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#session.close();
    const pid = this.#server.pid;
    await this.#server.close();
    await waitForExit(pid);
  }
}
