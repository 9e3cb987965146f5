// The bench's handle on a Lectern server running in its own process (lecternServer.ts).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForExit } from './proc.js';

/**
 * 'default' is `npm start`'s configuration; 'signalling' has one worker and rooms of up to 5000;
 * 'fuzz' is 'signalling' with short empty-room and resume windows, so leaks show within seconds.
 */
export type LecternProfile = 'default' | 'signalling' | 'fuzz';
export type Memory = { rss: number; heapUsed: number; external: number; arrayBuffers: number };
/** RTP packets the SFU sent to consumers and received from producers (mediasoup stats), now. */
export type MediaCounts = { sent: number; received: number; perProducer: number[] };

/** A running Lectern server process. */
export interface LecternProcess {
  url: string;
  /** ws://127.0.0.1:<port>/ws */
  wsUrl: string;
  /** The server's Node process. */
  pid: number;
  workerPids: number[];
  /** Memory of the server process after a full GC. */
  memory(): Promise<Memory>;
  media(): Promise<MediaCounts>;
  close(): Promise<void>;
}

/** Fork a Lectern server and wait until it listens. */
export async function startLecternProcess(profile: LecternProfile): Promise<LecternProcess> {
  const child = fork(fileURLToPath(new URL('./lecternServer.ts', import.meta.url)), [profile], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const request = <T>(op: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      const onMessage = (message: { op: string; id?: number }) => {
        if (message.id !== id) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      };
      const onExit = () => {
        child.off('message', onMessage);
        reject(new Error(`lectern server exited before answering '${op}'`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ op, id });
    });
  const ready = await new Promise<{ port: number; workerPids: number[] }>((resolve, reject) => {
    child.once('message', (m: { op: string; port: number; workerPids: number[] }) => (m.op === 'ready' ? resolve(m) : reject(new Error('lectern server failed'))));
    child.once('exit', (code) => reject(new Error(`lectern server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${ready.port}`,
    wsUrl: `ws://127.0.0.1:${ready.port}/ws`,
    pid: child.pid!,
    workerPids: ready.workerPids,
    memory: () => request<Memory>('memory'),
    media: () => request<MediaCounts>('media'),
    async close() {
      if (child.exitCode === null && child.connected) await request('close').catch(() => undefined);
      if (child.exitCode === null) child.kill('SIGKILL');
      await Promise.all([child.pid!, ...ready.workerPids].map((pid) => waitForExit(pid)));
    },
  };
}
