// The bench's handle on a Lectern server running in its own process (lecternServer.ts).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForExit } from './proc.js';

/**
 * 'default' is `npm start`'s configuration; 'class' is 'default' with the video consumer cap per
 * participant (rooms.maxVideoConsumers) given by the scenario; 'signalling' has one worker and rooms of up to 5000;
 * 'fuzz' is 'signalling' with short empty-room and resume windows, so leaks show within seconds.
 */
export type LecternProfile = 'default' | 'signalling' | 'fuzz' | { class: { maxVideoConsumers: number } };
export type Memory = { rss: number; heapUsed: number; external: number; arrayBuffers: number };
/** RTP packets the SFU sent to consumers and received from producers (mediasoup stats), now. */
export type MediaCounts = { sent: number; received: number; perProducer: number[] };

/** One transport on the server (by the id signalling gave the client) and its consumers. */
export type TransportState = {
  id: string;
  /** WebRTC transports only; '-' for others. */
  iceState: string;
  dtlsState: string;
  consumers: { id: string; producerId: string; kind: 'audio' | 'video'; paused: boolean; producerPaused: boolean; packets: number }[];
};

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
  /** A signed room link for `subject` as `role`, from the server's own key. */
  token(room: string, role: 'instructor' | 'student', subject: string): Promise<string>;
  transports(): Promise<TransportState[]>;
  /** Record `tracks` of the participants' producers (cameras first) with the product's recorder, into the server's store. */
  record(tracks: number): Promise<{ trackIds: string[]; muxerPids: number[]; errors: string[] }>;
  /** Stop what record() started; how each recorded segment ended. */
  stopRecording(): Promise<{ ends: RecordedTrackEnd[]; errors: string[] }>;
  close(): Promise<void>;
}

/** How one recorded segment ended (sfu/recorder SegmentEnd, in short). */
export type RecordedTrackEnd = { trackId: string; lost: number; packets: number; bytes: number; keyFrameRequests: number };

/** Fork a Lectern server and wait until it listens. */
export async function startLecternProcess(profile: LecternProfile): Promise<LecternProcess> {
  const argv = typeof profile === 'string' ? [profile] : ['class', String(profile.class.maxVideoConsumers)];
  const child = fork(fileURLToPath(new URL('./lecternServer.ts', import.meta.url)), argv, {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const request = <T>(op: string, data: Record<string, unknown> = {}): Promise<T> =>
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
      child.send({ ...data, op, id });
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
    async token(room, role, subject) {
      const reply = await request<{ token?: string; error?: string }>('token', { room, role, subject });
      if (!reply.token) throw new Error(`no room token: ${reply.error ?? 'no reply'}`);
      return reply.token;
    },
    transports: async () => (await request<{ transports: TransportState[] }>('transports')).transports,
    record: (tracks) => request('record', { tracks }),
    stopRecording: () => request('stopRecording'),
    async close() {
      if (child.exitCode === null && child.connected) await request('close').catch(() => undefined);
      if (child.exitCode === null) child.kill('SIGKILL');
      await Promise.all([child.pid!, ...ready.workerPids].map((pid) => waitForExit(pid)));
    },
  };
}
