// Class: one instructor and N participants in one room of a real Lectern (its own process, default
// config: one worker per core), every one a bot (BotParticipant: the real signalling protocol with
// a signed room link per person, werift ICE + DTLS + SRTP). The instructor and `cameras` students
// send VP8 (one layer), the instructor and `microphones` students send opus; everybody shows a
// gallery page of up to `pageSize` cameras and tells the server with `setView`. After every bot
// receives its page and every microphone (or a deadline), a warm-up, then a window in which we read:
// SFU worker CPU, the consumers the server holds per participant (all, and neither paused nor
// producer-paused), packets the SFU sent on each consumer, and what each bot received and missed.
// A bot that received nothing, or far less than the others, is flagged with its server-side state.
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import { startLecternProcess } from '../lib/lecternProcess.js';
import { cpuDelta, cpuOf, udpDropsOfProcesses, udpRcvbufErrors } from '../lib/proc.js';
import { BotPool } from '../lib/BotPool.js';
import type { BotSpec } from '../lib/botThread.js';
import { galleryPages } from '../lib/galleryPages.js';
import { receptions, type Reception } from '../lib/reception.js';
import { quantile } from '../lib/stats.js';
import { loadWerift } from '../lib/werift.js';
import { vpxencInstalled } from '../lib/vp8Clip.js';

export interface ClassOptions {
  /** Participants besides the instructor. */
  participants: number;
  /** Of them, how many send a camera. */
  cameras: number;
  /** Of them, how many send a microphone (the instructor always does). */
  microphones: number;
  pageSize: number;
  /** The server's cap on video consumers per participant (rooms.maxVideoConsumers). */
  maxVideoConsumers: number;
  clip: { width: number; height: number; fps: number; kbps: number };
  botThreads: number;
  windowSeconds: number;
  warmupSeconds: number;
  readyTimeoutSeconds: number;
  /** Record this many of the class's tracks (cameras first) with the product's recorder during the window (bench/scenarios/recording.ts). */
  record?: number;
}

/** What recording alongside the class cost and lost (ClassOptions.record). */
export interface ClassRecording {
  tracks: number;
  /** The recorders' ffmpeg muxers, percent of one core per recorded track. */
  muxerCpuPercentPerTrack: number;
  /** Packets the recorders' relays received, per track, and the sequence gaps among them. */
  packetsPerTrack: number;
  loss: number;
  bytes: number;
  errors: string[];
}

type Spread = { max: number; mean: number };

export interface ClassResult {
  /** Everyone in the room: the instructor and the participants that joined. */
  participants: number;
  joined: number;
  cameras: number;
  microphones: number;
  pageSize: number;
  maxVideoConsumers: number;
  /** setView was accepted by the server for every bot (false: refused, e.g. a server without it). */
  viewSent: boolean;
  viewFailures: string[];
  /** Every bot received its page and every microphone before the window. */
  allReceiving: boolean;
  secondsToAllReceiving: number;
  videoConsumers: Spread;
  activeVideoConsumers: Spread;
  audioConsumers: Spread;
  activeAudioConsumers: Spread;
  /** No participant held more video consumers than the server's cap. */
  videoCapHeld: boolean;
  /** No participant had more video flowing (consumers neither paused nor producer-paused) than its page. */
  onlyPageSent: boolean;
  sfuCpuPercentPerWorker: number[];
  sfuCpuPercentPerParticipant: number;
  sfuForwardedPerSecond: number;
  sfuReceivedPerSecond: number;
  /** Packets each bot received in the window. */
  receivedPerBot: { min: number; p50: number; max: number };
  /** Sequence gaps at the bots / (received + gaps). */
  loss: number;
  /** Packets the SFU sent to the bots in the window that the bots did not count. */
  sentNotReceived: number;
  rcvbufErrors: number;
  sfuSocketDrops: number;
  flagged: Reception[];
  receptions: Reception[];
  serverCpuPercent: number;
  benchProcessCpuPercent: number;
  windowSeconds: number;
  /** What the bots' counts span (reset -> report, midpoints of the requests): longer than the window on a loaded machine. */
  botWindowSeconds: number;
  loadAverage: number;
  /** When the class was recorded (ClassOptions.record). */
  recording?: ClassRecording;
  note: string;
}

const INSTRUCTOR = 'Instructor';

export async function measureClass(options: ClassOptions): Promise<ClassResult> {
  const { participants: n, pageSize, windowSeconds } = options;
  const cameras = Math.min(n, options.cameras);
  const microphones = Math.min(n, options.microphones);
  if (!vpxencInstalled()) throw new Error('bots need vpxenc for their VP8 (apt-get install vpx-tools, or bench/setup.sh)');
  await loadWerift(); // fails here, with how to install it, rather than in a thread
  const lectern = await startLecternProcess({ class: { maxVideoConsumers: options.maxVideoConsumers } });
  const room = `class-${n}-${Date.now()}`;
  let bots: BotPool | undefined;
  try {
    bots = await BotPool.start(options.botThreads);
    // Each person with their own signed link, as the LMS launch or the instructor's invitation gives.
    const instructor: BotSpec = { name: INSTRUCTOR, token: await lectern.token(room, 'instructor', 'instructor@bench.invalid'), camera: true, microphone: true };
    const students: BotSpec[] = [];
    for (let i = 0; i < n; i++) {
      const name = `Student ${String(i + 1).padStart(3, '0')}`;
      students.push({ name, token: await lectern.token(room, 'student', `student${i + 1}@bench.invalid`), camera: i < cameras, microphone: i < microphones });
    }
    // The instructor opens the class; the students arrive after, one after another per bot thread.
    const first = await bots.joinBots(lectern.wsUrl, room, [instructor], options.clip);
    const rest = await bots.joinBots(lectern.wsUrl, room, students, options.clip);
    const failures = [...first.failures, ...rest.failures];
    for (const failure of failures) console.log(`class: bot ${failure}`);
    const retried = [...first.retried, ...rest.retried];

    // Everybody shows a page of the gallery: the producers each bot sends are known only now.
    const joinedBots = await bots.details();
    const pages = galleryPages(
      joinedBots.map((b) => ({ name: b.name, videoProducerId: b.producers.find((p) => p.kind === 'video')?.id })),
      INSTRUCTOR,
      pageSize,
    );
    const viewFailures = await bots.setView(pages);
    const viewSent = viewFailures.length === 0;
    for (const failure of viewFailures.slice(0, 3)) console.log(`class: setView refused: ${failure}`);
    const microphoneIds = new Set(joinedBots.flatMap((b) => b.producers.filter((p) => p.kind === 'audio').map((p) => p.id)));
    const ownAudio = (name: string) => (joinedBots.find((b) => b.name === name)?.producers.some((p) => p.kind === 'audio') ? 1 : 0);
    // Without a page the server sends every camera: then every other camera is what a bot waits for.
    const allCameras = joinedBots.filter((b) => b.producers.some((p) => p.kind === 'video')).length;
    const expectedVideo = (name: string) =>
      viewSent ? Math.min(options.maxVideoConsumers, pages[name]!.length) : allCameras - (joinedBots.find((b) => b.name === name)?.producers.some((p) => p.kind === 'video') ? 1 : 0);

    const readyStart = performance.now();
    let allReceiving = false;
    while (performance.now() - readyStart < options.readyTimeoutSeconds * 1000) {
      const counts = await bots.counts();
      if (counts.every((b) => b.video.streams >= expectedVideo(b.name) && b.audio.streams >= microphoneIds.size - ownAudio(b.name))) {
        allReceiving = true;
        break;
      }
      await sleep(1000);
    }
    const secondsToAllReceiving = (performance.now() - readyStart) / 1000;
    // Recording starts before the warm-up, so its start (keyframes, muxers probing) is outside the window.
    const recorders = options.record ? await lectern.record(options.record) : undefined;
    for (const error of recorders?.errors ?? []) console.log(`class: recorder: ${error}`);
    await sleep(options.warmupSeconds * 1000);

    // Process CPU is read back to back around the window; server and bot state take time to
    // collect, so packet rates use their own timestamps.
    const workerPids = lectern.workerPids;
    const tb0 = performance.now();
    await bots.reset();
    const tb0Done = performance.now();
    const tr0 = await lectern.transports();
    const p0 = await lectern.media();
    const tp0 = performance.now();
    const m0 = cpuOf(recorders?.muxerPids ?? []);
    const w0 = cpuOf(workerPids);
    const n0 = cpuOf([lectern.pid]);
    const b0 = process.cpuUsage();
    const r0 = udpRcvbufErrors();
    const d0 = udpDropsOfProcesses(workerPids);
    const t0 = performance.now();
    await sleep(windowSeconds * 1000);
    const w1 = cpuOf(workerPids);
    const m1 = cpuOf(recorders?.muxerPids ?? []);
    const n1 = cpuOf([lectern.pid]);
    const b1 = process.cpuUsage(b0);
    const r1 = udpRcvbufErrors();
    const d1 = udpDropsOfProcesses(workerPids);
    const t1 = performance.now();
    const p1 = await lectern.media();
    const tp1 = performance.now();
    const tb1 = performance.now();
    const details = await bots.details();
    const tb1Done = performance.now();
    const tr1 = await lectern.transports();
    const seconds = (t1 - t0) / 1000;
    let recording: ClassRecording | undefined;
    if (recorders) {
      const stopped = await lectern.stopRecording();
      const tracks = Math.max(1, recorders.trackIds.length);
      const packets = stopped.ends.reduce((a, e) => a + e.packets, 0);
      const gaps = stopped.ends.reduce((a, e) => a + e.lost, 0);
      recording = {
        tracks: recorders.trackIds.length,
        muxerCpuPercentPerTrack: (cpuDelta(m0, m1) / seconds / tracks) * 100,
        packetsPerTrack: Math.round(packets / tracks),
        loss: gaps / Math.max(1, packets + gaps),
        bytes: stopped.ends.reduce((a, e) => a + e.bytes, 0),
        errors: [...recorders.errors, ...stopped.errors],
      };
    }
    const packetSeconds = (tp1 - tp0) / 1000;

    const all = receptions(details, tr0, tr1);
    const spread = (values: number[]): Spread => ({ max: Math.max(0, ...values), mean: values.reduce((a, v) => a + v, 0) / Math.max(1, values.length) });
    const received = all.map((r) => r.received);
    const totalReceived = received.reduce((a, v) => a + v, 0);
    const totalLost = all.reduce((a, r) => a + r.lost, 0);
    const totalSent = all.reduce((a, r) => a + r.sent, 0);
    const sfuCpu = workerPids.map((pid) => (((w1.get(pid) ?? 0) - (w0.get(pid) ?? 0)) / 1e6 / seconds) * 100);
    const joined = details.length;
    const videoConsumers = spread(all.map((r) => r.videoConsumers));
    const botErrors = details.flatMap((b) => b.errors);
    return {
      participants: n + 1,
      joined,
      cameras: allCameras,
      microphones: microphoneIds.size,
      pageSize,
      maxVideoConsumers: options.maxVideoConsumers,
      viewSent,
      viewFailures,
      allReceiving,
      secondsToAllReceiving: Number(secondsToAllReceiving.toFixed(1)),
      videoConsumers,
      activeVideoConsumers: spread(all.map((r) => r.activeVideoConsumers)),
      audioConsumers: spread(all.map((r) => r.audioConsumers)),
      activeAudioConsumers: spread(all.map((r) => r.activeAudioConsumers)),
      videoCapHeld: videoConsumers.max <= options.maxVideoConsumers,
      onlyPageSent: all.every((r) => r.activeVideoConsumers <= expectedVideo(r.name)),
      sfuCpuPercentPerWorker: sfuCpu,
      sfuCpuPercentPerParticipant: sfuCpu.reduce((a, c) => a + c, 0) / Math.max(1, joined),
      sfuForwardedPerSecond: Math.round((p1.sent - p0.sent) / packetSeconds),
      sfuReceivedPerSecond: Math.round((p1.received - p0.received) / packetSeconds),
      receivedPerBot: { min: quantile(received, 0), p50: quantile(received, 0.5), max: quantile(received, 1) },
      loss: totalLost / Math.max(1, totalReceived + totalLost),
      sentNotReceived: Math.max(0, totalSent - totalReceived),
      rcvbufErrors: r1 - r0,
      sfuSocketDrops: d1 - d0,
      flagged: all.filter((r) => r.flag),
      receptions: all,
      serverCpuPercent: (cpuDelta(n0, n1) / seconds) * 100,
      benchProcessCpuPercent: ((b1.user + b1.system) / 1e6 / seconds) * 100,
      windowSeconds: Number(seconds.toFixed(2)),
      botWindowSeconds: Number(((tb1 + tb1Done - tb0 - tb0Done) / 2000).toFixed(2)),
      loadAverage: os.loadavg()[0]!,
      ...(recording ? { recording } : {}),
      note:
        `${joined}/${n + 1} bots (on ${options.botThreads} threads) joined` +
        (failures.length ? ` (${failures.length} could not: ${failures.slice(0, 2).join('; ')})` : '') +
        (retried.length ? `, ${retried.length} at their second try` : '') +
        `; ${viewSent ? `every bot sent its page (setView, up to ${pageSize} cameras)` : `setView refused (${viewFailures[0] ?? '?'}): every bot receives every camera`}` +
        `; ${allReceiving ? 'all' : 'NOT all'} pages and microphones arriving after ${secondsToAllReceiving.toFixed(0)} s` +
        `; bot counts span ${((tb1 + tb1Done - tb0 - tb0Done) / 2000).toFixed(1)} s of the ${seconds.toFixed(1)} s window` +
        (botErrors.length ? `; bot errors: ${botErrors.slice(0, 3).join('; ')}` : '') +
        `; camera clip ${options.clip.width}x${options.clip.height}@${options.clip.fps} ${options.clip.kbps} kbit/s VP8, one layer`,
    };
  } finally {
    await bots?.close();
    await lectern.close();
  }
}
