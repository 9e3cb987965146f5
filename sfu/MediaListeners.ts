// What the media workers listen on and what they tell browsers to send to, read from the running
// workers (for GET /admin/runtime and `lectern audit --url`): the WebRtcServer dump lists the bound
// sockets, and a throw-away transport's candidates show what is announced, which no dump says.
import { version } from 'mediasoup';
import type { PooledWorker, WorkerPool } from './WorkerPool.js';

/** One worker's media sockets and announced addresses. */
export interface MediaListener {
  /** Worker index. */
  index: number;
  udp: { ip: string; port: number }[];
  tcp: { ip: string; port: number }[];
  /** Addresses in the ICE candidates browsers receive. */
  announced: string[];
}

/** The mediasoup version the workers run. */
export const mediasoupVersion: string = version;

/** Reads the pool's listeners; what a WebRtcServer announces never changes, so it is probed once per server. */
export class MediaListeners {
  readonly #pool: WorkerPool;
  readonly #announced = new WeakMap<PooledWorker['webRtcServer'], Promise<string[]>>();

  /** Read from `pool`. */
  constructor(pool: WorkerPool) {
    this.#pool = pool;
  }

  /** Every live worker's sockets and announced addresses. */
  describe(): Promise<MediaListener[]> {
    return Promise.all(
      this.#pool.workers.map(async (w) => {
        let probe = this.#announced.get(w.webRtcServer);
        if (!probe) {
          probe = announcedAddresses(w);
          this.#announced.set(w.webRtcServer, probe);
          probe.catch(() => this.#announced.delete(w.webRtcServer));
        }
        const dump = await w.webRtcServer.dump();
        return {
          index: w.index,
          udp: dump.udpSockets.map((s) => ({ ip: s.ip, port: s.port })),
          tcp: dump.tcpServers.map((s) => ({ ip: s.ip, port: s.port })),
          announced: await probe,
        };
      }),
    );
  }
}

/** The candidates of a throw-away transport on the worker's WebRtcServer. */
async function announcedAddresses(pooled: PooledWorker): Promise<string[]> {
  const router = await pooled.worker.createRouter({ mediaCodecs: [], appData: { purpose: 'admin-runtime-probe' } });
  try {
    const transport = await router.createWebRtcTransport({ webRtcServer: pooled.webRtcServer });
    return [...new Set(transport.iceCandidates.map((c) => c.address))];
  } finally {
    router.close();
  }
}
