// werift (pure-TypeScript WebRTC) is loaded at run time so the bench type-checks and its plain-RTP
// scenarios run without it. It is found in the project's node_modules, or in BENCH_NODE_MODULES
// (a scratch install: `npm install werift@0.24.4` in some directory, then point this at its node_modules).
import { createRequire } from 'node:module';
import { join } from 'node:path';
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
export interface WeriftPeerConnection {
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<unknown>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(description: { type: string; sdp: string }): Promise<unknown>;
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
}

/** Load werift, or explain how to get it. */
export async function loadWerift(): Promise<WeriftModule> {
  const bases = [join(process.cwd(), 'package.json')];
  if (process.env.BENCH_NODE_MODULES) bases.unshift(join(process.env.BENCH_NODE_MODULES, '..', 'package.json'));
  for (const base of bases) {
    try {
      const resolved = createRequire(base).resolve('werift');
      const mod = (await import(pathToFileURL(resolved).href)) as { default?: WeriftModule } & Partial<WeriftModule>;
      const api = mod.RTCPeerConnection ? (mod as WeriftModule) : mod.default;
      if (api?.RTCPeerConnection) return api;
    } catch {
      // try the next place
    }
  }
  throw new Error('werift is not installed: add "werift": "0.24.4" to devDependencies, or set BENCH_NODE_MODULES to a node_modules that has it');
}

/**
 * A werift peer that can only ever use loopback: no STUN/TURN (werift otherwise defaults to a public
 * STUN server), IPv4 only, 127.0.0.1 added as a host address, and candidate pairs towards anything
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
