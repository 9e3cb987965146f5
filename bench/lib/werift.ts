// werift (pure-TypeScript WebRTC) is loaded at run time so the bench type-checks and its plain-RTP
// scenarios run without it. It is found in the project's node_modules, or in BENCH_NODE_MODULES
// (a scratch install: `npm install werift@0.24.4` in some directory, then point this at its node_modules).
import dgram from 'node:dgram';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The slice of werift's API the bench uses. */
export interface WeriftEvent<T extends unknown[]> {
  subscribe(listener: (...args: T) => void): unknown;
}
export interface WeriftRtpPacket {
  header: { ssrc: number; sequenceNumber: number };
  payload: Buffer;
}
export interface WeriftTrack {
  kind: string;
  onReceiveRtp: WeriftEvent<[WeriftRtpPacket]>;
}
export interface WeriftTransceiver {
  sender: { sendRtp(packet: Buffer): Promise<unknown> };
}
export interface WeriftPeerConnection {
  addTransceiver(kind: 'audio' | 'video', options: { direction: 'sendonly' | 'recvonly' }): WeriftTransceiver;
  createOffer(): Promise<{ type: 'offer'; sdp: string }>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<unknown>;
  createAnswer(): Promise<{ type: 'answer'; sdp: string }>;
  setLocalDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<unknown>;
  readonly localDescription: { type: string; sdp: string } | null;
  readonly iceGatheringState: string;
  readonly connectionState: string;
  readonly iceGatheringStateChange: WeriftEvent<[string]>;
  readonly connectionStateChange: WeriftEvent<[string]>;
  readonly onTrack: WeriftEvent<[WeriftTrack]>;
  close(): Promise<void>;
}
export interface WeriftModule {
  RTCPeerConnection: new (config: Record<string, unknown>) => WeriftPeerConnection;
  /** werift's ICE agent (one per ICE transport). */
  Connection: { prototype: { getCandidatePromises(...args: unknown[]): unknown } };
}

/**
 * werift's ICE agent asks stun.l.google.com for a server-reflexive candidate whenever no STUN server
 * is configured (an empty iceServers list included), and gathering then waits up to 5 s for the
 * answer. In the bench's namespace the lookup fails (nothing leaves), but it must not be tried at
 * all: the agent's STUN server is cleared right before every gathering.
 */
function disableDefaultStun(werift: WeriftModule): void {
  const proto = werift.Connection.prototype as { getCandidatePromises(...args: unknown[]): unknown; __lecternNoStun?: true };
  if (proto.__lecternNoStun) return;
  const gather = proto.getCandidatePromises;
  proto.getCandidatePromises = function (this: { stunServer?: unknown }, ...args: unknown[]) {
    this.stunServer = undefined;
    return gather.apply(this, args);
  };
  proto.__lecternNoStun = true;
}

// werift opens its sockets with the kernel's default receive buffer (~208 KiB). Its one JS thread
// falls behind in bursts at 8.5k packets/s and the kernel then drops, which says nothing about the
// SFU under test but discards the run. Every socket werift opens asks for 4 MiB instead (the kernel
// caps it at net.core.rmem_max). werift calls dgram.createSocket at run time, so wrapping the
// builtin (and syncing its ESM view) before werift is loaded reaches all of them.
const WERIFT_RECV_BUFFER = 4 * 1024 * 1024;
let socketsEnlarged = false;

function enlargeSocketBuffers(): void {
  if (socketsEnlarged) return;
  socketsEnlarged = true;
  const createSocket = dgram.createSocket;
  dgram.createSocket = ((type: dgram.SocketType | dgram.SocketOptions, listener?: (msg: Buffer, rinfo: dgram.RemoteInfo) => void) =>
    createSocket({ recvBufferSize: WERIFT_RECV_BUFFER, ...(typeof type === 'string' ? { type } : type) }, listener)) as typeof dgram.createSocket;
  syncBuiltinESMExports();
}

/**
 * werift waits 2 x RTT + 200 ms (at least 500 ms) for each ICE consent response and drops a later
 * one; with no valid response for 30 s the transport fails. A bench thread running ten bots on a
 * saturated machine is often late by more than that, so every bot's transports failed after half a
 * minute while the SFU kept answering. The floor is raised to 5 s: consent still expires if the SFU
 * stops answering (RFC 7675's 30 s), but a late thread no longer counts as silence.
 */
function patientConsent(weriftMain: string): void {
  try {
    // Not in werift's package exports: loaded by file name, the same module instance werift uses.
    const iceBase = createRequire(weriftMain)(join(dirname(weriftMain), '..', '..', 'ice', 'src', 'iceBase.js')) as { CONSENT_RESPONSE_TIMEOUT_MIN: number; CONSENT_RESPONSE_TIMEOUT: number };
    iceBase.CONSENT_RESPONSE_TIMEOUT_MIN = 5000;
    iceBase.CONSENT_RESPONSE_TIMEOUT = 5000;
  } catch {
    // another werift layout: keep its defaults
  }
}

/** Load werift (its sockets with 4 MiB receive buffers), or explain how to get it. */
export async function loadWerift(): Promise<WeriftModule> {
  enlargeSocketBuffers();
  const bases = [join(process.cwd(), 'package.json')];
  if (process.env.BENCH_NODE_MODULES) bases.unshift(join(process.env.BENCH_NODE_MODULES, '..', 'package.json'));
  for (const base of bases) {
    try {
      const resolved = createRequire(base).resolve('werift');
      const mod = (await import(pathToFileURL(resolved).href)) as { default?: WeriftModule } & Partial<WeriftModule>;
      const api = mod.RTCPeerConnection ? (mod as WeriftModule) : mod.default;
      if (api?.RTCPeerConnection && api.Connection) {
        disableDefaultStun(api);
        patientConsent(resolved);
        return api;
      }
    } catch {
      // try the next place
    }
  }
  throw new Error('werift is not installed: add "werift": "0.24.4" to devDependencies, or set BENCH_NODE_MODULES to a node_modules that has it');
}

/**
 * A werift peer that can only ever use loopback: no STUN/TURN (werift otherwise asks a public STUN
 * server; see disableDefaultStun), IPv4 only, 127.0.0.1 added as a host address, and candidate pairs towards anything
 * outside 127.0.0.0/8 refused. Its sockets bind the wildcard address (werift binds every candidate's
 * socket to one interface address otherwise, which breaks the 127.0.0.2 candidate Janus needs), so
 * it must run inside the bench's network namespace, where only 127.0.0.0/8 addresses exist.
 */
export function loopbackPeerConnection(werift: WeriftModule): WeriftPeerConnection {
  return new werift.RTCPeerConnection({
    iceServers: [],
    iceUseIpv4: true,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair: { remoteCandidate: { host: string } }) => pair.remoteCandidate.host.startsWith('127.'),
  });
}

/** Resolves once the peer has gathered all its candidates (they go into its local description). */
export function gathered(pc: WeriftPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise<void>((resolve) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve()));
}
