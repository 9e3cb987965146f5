// Abuse on the signalling socket, measured from an honest participant's side (issue 12): while 20
// connections send fuzzed frames (random bytes, broken JSON, wrong shapes, unknown methods, valid
// joins to random rooms, oversized strings, binary frames) and one more floods ~60 KiB junk frames
// with a valid request every 20, a canary participant's request round trip is timed. Afterwards no
// room may outlive its last participant beyond the room timeout. The server runs in its own process
// (profile 'fuzz': empty rooms close after 2 s, dropped connections are held 2 s). The canary,
// each fuzzer and the flooder connect from addresses of their own in 127/8, so the per-address
// connection budget limits the reconnecting flooder as it would a real one. The canary runs on a
// worker thread of its own, so its timings do not hold the fuzzers' own work.
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startLecternProcess } from '../lib/lecternProcess.js';
import { cpuDelta, cpuOf } from '../lib/proc.js';
import { quantile } from '../lib/stats.js';
import { BenchThread } from '../lib/thread.js';
import type { CanaryRequest } from '../lib/canaryThread.js';

/** What one fuzz run measured. */
export interface FuzzResult {
  fuzzFrames: number;
  fuzzConnections: number;
  /** Fuzz connections the server closed for breaking the protocol (each reconnected). */
  fuzzClosedByServer: number;
  junkFrames: number;
  junkBytes: number;
  /** Times the junk flooder was closed by the server (and reconnected). */
  junkClosedByServer: number;
  /** New connections the server refused (429) to the fuzzers and the flooder, all on one address. */
  refusedUpgrades: number;
  canaryBaseline: { requests: number; p50Ms: number; p99Ms: number };
  canaryUnderLoad: { requests: number; p50Ms: number; p99Ms: number; failed: number };
  serverCpuPercent: number;
  /** Most rooms open at once during the fuzzing (sampled every 250 ms): the fuzzers' joins do open rooms. */
  peakRooms: number;
  /** Rooms open when the fuzzing stopped, and how long until only the canary's was left. */
  roomsAtEnd: number;
  roomsDrainedMs: number | null;
  note: string;
}

const ROOM_TIMEOUT_MS = 2000;
const GRACE_MS = 2000;

/** A small deterministic PRNG, so every run sends the same frames. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METHODS = ['join', 'ready', 'produce', 'leave', 'sendChat', 'raiseHand', 'resume', 'admit', 'endClass', 'openPoll', 'nope', '__proto__', 'constructor'];

/** One fuzzed frame: text or binary. */
function fuzzFrame(random: () => number, i: number): { data: string | Buffer; binary: boolean } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const id = Math.floor(random() * 1e6);
  switch (Math.floor(random() * 10)) {
    case 0:
      return { data: Buffer.from(Array.from({ length: 1 + Math.floor(random() * 512) }, () => Math.floor(random() * 256))), binary: true };
    case 1:
      return { data: JSON.stringify({ kind: 'request', id, method: 'join', data: { room: `fuzz-${i % 500}`, displayName: 'F' } }).slice(0, Math.floor(random() * 60)), binary: false };
    case 2:
      return { data: JSON.stringify({ kind: 'request', id, method: pick(METHODS), data: { [pick(['room', 'text', 'raised', 'x', '__proto__'])]: pick([1, 'a', null, [], {}, true, 'x'.repeat(8192)]) } }), binary: false };
    case 3:
      return { data: JSON.stringify({ kind: 'request', id, method: 'join', data: { room: `fuzz-${Math.floor(random() * 5000)}`, displayName: 'Fuzz' } }), binary: false };
    case 4:
      return { data: '['.repeat(1 + Math.floor(random() * 5000)), binary: false };
    case 5:
      return { data: JSON.stringify({ kind: pick(['request', 'response', 'notification', 1]), id: pick([id, -1, 1.5, 'x', null]), method: pick(METHODS), data: {} }), binary: false };
    case 6:
      return { data: JSON.stringify({ kind: 'request', id, method: 'leave', data: {} }), binary: false };
    case 7:
      return { data: JSON.stringify({ kind: 'request', id, method: 'sendChat', data: { text: 'x'.repeat(Math.floor(random() * 4000)) } }), binary: false };
    case 8:
      return { data: `{"kind":"request","id":${id},"method":"join","data":{"room":"fuzz","displayName":"${'\\u0000'.repeat(Math.floor(random() * 200))}"}}`, binary: false };
    default:
      return { data: String.fromCharCode(...Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 0xd7ff))), binary: false };
  }
}

/** Upgrades the server refused (HTTP 429: too many new connections from this address). */
let refusedUpgrades = 0;

function connectOnce(url: string, localAddress: string): Promise<WebSocket | null> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => {
      response.resume();
      if (response.statusCode === 429) resolve(null);
      else reject(new Error(`upgrade refused with ${response.statusCode}`));
    });
    ws.once('error', reject);
  });
}

/** Open a connection; while the server refuses new ones from this address, wait and try again. */
async function open(url: string, localAddress = '127.0.0.1'): Promise<WebSocket> {
  for (;;) {
    const ws = await connectOnce(url, localAddress);
    if (ws) return ws;
    refusedUpgrades++;
    await sleep(200);
  }
}

/** Run the scenario: `frames` fuzzed frames over `connections` connections, plus one junk flooder. */
export async function measureFuzz(frames = 100_000, connections = 20): Promise<FuzzResult> {
  const server = await startLecternProcess('fuzz');
  refusedUpgrades = 0;
  const health = async () => (await (await fetch(`${server.url}/healthz`)).json()) as { rooms: number; peers: number };
  let stop = false;
  let canary: BenchThread<CanaryRequest> | undefined;
  try {
    // The canary: a joined participant on a thread of its own (bench/lib/canaryThread.ts).
    canary = await BenchThread.start<CanaryRequest>(new URL('../lib/canaryThread.ts', import.meta.url), 'canary');
    await canary.call({ op: 'start', wsUrl: server.wsUrl });
    await canary.call({ op: 'take' });
    await sleep(5000);
    const baseline = (await canary.call<{ samples: number[] }>({ op: 'take' })).samples;

    const before = cpuOf([server.pid]);
    const started = performance.now();
    let fuzzSent = 0;
    let fuzzClosed = 0;
    const perConnection = Math.ceil(frames / connections);
    const fuzzers = Array.from({ length: connections }, async (_, c) => {
      const random = prng(1000 + c);
      // Each fuzzer from an address of its own (all of 127/8 is loopback): one address's
      // connection budget is not what is measured here, the flooder's is.
      const from = `127.0.1.${c + 1}`;
      let ws = await open(server.wsUrl, from);
      for (let i = 0; i < perConnection && !stop; i++) {
        if (ws.readyState !== WebSocket.OPEN) {
          if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) fuzzClosed++;
          ws = await open(server.wsUrl, from);
        }
        const frame = fuzzFrame(random, i);
        ws.send(frame.data, { binary: frame.binary });
        fuzzSent++;
        // ~80 frames/s per connection: fast enough to be hostile, slow enough to reach the parser.
        await sleep(12);
      }
      ws.terminate();
    });

    let junkFrames = 0;
    let junkBytes = 0;
    let junkClosed = 0;
    const junk = 'x'.repeat(60 * 1024);
    const flooder = (async () => {
      while (!stop) {
        const ws = await open(server.wsUrl, '127.0.2.1');
        ws.on('message', () => undefined);
        const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        let n = 0;
        while (!stop && ws.readyState === WebSocket.OPEN) {
          const frame = n % 20 === 19 ? JSON.stringify({ kind: 'request', id: n, method: 'leave', data: {} }) : junk;
          await new Promise<void>((resolve) => ws.send(frame, () => resolve()));
          junkFrames++;
          junkBytes += frame.length;
          n++;
          if (n % 50 === 0) await sleep(0);
        }
        if (!stop) junkClosed++;
        ws.terminate();
        await closed;
      }
    })();

    let peakRooms = 0;
    const sampler = setInterval(() => void health().then((h) => (peakRooms = Math.max(peakRooms, h.rooms)), () => undefined), 250);
    await Promise.all(fuzzers);
    clearInterval(sampler);
    stop = true;
    await flooder;
    const seconds = (performance.now() - started) / 1000;
    const serverCpuPercent = (cpuDelta(before, cpuOf([server.pid])) / seconds) * 100;
    await sleep(200);
    const { samples: underLoad, failed } = await canary.call<{ samples: number[]; failed: number }>({ op: 'take' });
    await canary.call({ op: 'stop' });

    // Every fuzz room must close: the room timeout after its last participant (held for the grace).
    const roomsAtEnd = (await health()).rooms;
    const drainStart = performance.now();
    let roomsDrainedMs: number | null = null;
    while (performance.now() - drainStart < ROOM_TIMEOUT_MS + GRACE_MS + 10_000) {
      if ((await health()).rooms <= 1) {
        roomsDrainedMs = performance.now() - drainStart;
        break;
      }
      await sleep(100);
    }
    const stats = (xs: number[]) => ({ requests: xs.length, p50Ms: quantile(xs, 0.5), p99Ms: quantile(xs, 0.99) });
    return {
      fuzzFrames: fuzzSent,
      fuzzConnections: connections,
      fuzzClosedByServer: fuzzClosed,
      junkFrames,
      junkBytes,
      junkClosedByServer: junkClosed,
      refusedUpgrades,
      canaryBaseline: stats(baseline),
      canaryUnderLoad: { ...stats(underLoad), failed },
      serverCpuPercent,
      peakRooms,
      roomsAtEnd,
      roomsDrainedMs,
      note:
        `${fuzzSent} fuzzed frames from ${connections} connections (${fuzzClosed} closed by the server) and ${junkFrames} junk-flood frames ` +
        `(${(junkBytes / 1048576).toFixed(0)} MiB, closed ${junkClosed} times; ${refusedUpgrades} reconnects refused with 429) in ${seconds.toFixed(0)} s; canary p99 ${quantile(underLoad, 0.99).toFixed(2)} ms ` +
        `(alone ${quantile(baseline, 0.99).toFixed(2)} ms); server ${serverCpuPercent.toFixed(0)}% of a core; up to ${peakRooms} rooms open at once, ${roomsAtEnd} at the end, ` +
        (roomsDrainedMs === null ? 'NOT all closed within the timeout' : `all but the canary's closed ${(roomsDrainedMs / 1000).toFixed(1)} s later`),
    };
  } finally {
    stop = true;
    await canary?.terminate();
    await server.close();
  }
}
