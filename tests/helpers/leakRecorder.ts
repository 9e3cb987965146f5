// Records everywhere a browser page sends anything: every HTTP request and WebSocket (Playwright's
// view) and everything WebRTC does (an init script wraps RTCPeerConnection before the client loads:
// the iceServers it is given, the candidates it gathers, STUN/TURN errors, and getStats() after
// media flows). findLeaks() turns a recording into the list of foreign destinations.
import type { BrowserContext, Page } from 'playwright-core';

/** One ICE candidate as the browser reports it. */
export interface RecordedCandidate {
  address: string | null;
  type: string | null;
  protocol: string | null;
  /** STUN/TURN server the candidate came from (srflx/relay); null for host candidates. */
  url: string | null;
}

/** What WebRTC did inside one page. */
export interface WebRtcRecording {
  /** iceServers passed to each RTCPeerConnection constructor or setConfiguration(), urls only. */
  iceServers: string[][];
  /** Candidates from icecandidate events. */
  gathered: RecordedCandidate[];
  /** Servers the browser tried and failed to reach (icecandidateerror). */
  candidateErrors: Array<{ url: string; errorText: string }>;
  /** From getStats(): every local and remote candidate, and the selected pairs (addresses, and udp or tcp). */
  stats: {
    local: RecordedCandidate[];
    remote: RecordedCandidate[];
    selectedPairs: Array<{ local: string | null; remote: string | null; protocol: string | null }>;
  };
  peerConnections: number;
}

/** Everything recorded for one browser context. */
export interface LeakRecording {
  requests: string[];
  websockets: string[];
  webrtc: WebRtcRecording[];
}

/**
 * Runs in the page before any of its scripts (Playwright's addInitScript, Puppeteer's
 * evaluateOnNewDocument). Kept self-contained: it is serialised, not imported.
 */
export function wrapPeerConnection(): void {
  type Recorder = {
    pcs: RTCPeerConnection[];
    iceServers: string[][];
    gathered: Array<{ address: string | null; type: string | null; protocol: string | null; url: string | null }>;
    candidateErrors: Array<{ url: string; errorText: string }>;
  };
  const w = window as unknown as { RTCPeerConnection: typeof RTCPeerConnection; webkitRTCPeerConnection?: unknown; __leakRecorder: Recorder };
  const recorder: Recorder = { pcs: [], iceServers: [], gathered: [], candidateErrors: [] };
  w.__leakRecorder = recorder;
  const urlsOf = (config?: RTCConfiguration): string[] =>
    (config?.iceServers ?? []).flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  const Native = w.RTCPeerConnection;
  class RecordedPeerConnection extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      recorder.pcs.push(this);
      recorder.iceServers.push(urlsOf(config));
      this.addEventListener('icecandidate', (event) => {
        const c = event.candidate;
        // An empty candidate string marks the end of candidates (Firefox sends one), not an address.
        if (c?.candidate) recorder.gathered.push({ address: c.address, type: c.type, protocol: c.protocol, url: (c as RTCIceCandidate & { url?: string | null }).url ?? (event as RTCPeerConnectionIceEvent & { url?: string | null }).url ?? null });
      });
      this.addEventListener('icecandidateerror', (event) => {
        const e = event as RTCPeerConnectionIceErrorEvent;
        recorder.candidateErrors.push({ url: e.url, errorText: `${e.errorCode} ${e.errorText}` });
      });
    }

    override setConfiguration(config?: RTCConfiguration): void {
      recorder.iceServers.push(urlsOf(config));
      super.setConfiguration(config);
    }
  }
  w.RTCPeerConnection = RecordedPeerConnection;
  if (w.webkitRTCPeerConnection) w.webkitRTCPeerConnection = RecordedPeerConnection;
}

/** A page of either driver (Playwright or Puppeteer): both evaluate a function in the page. */
export interface EvaluatingPage {
  evaluate<R>(fn: () => Promise<R>): Promise<R>;
}

/** Collect what the wrapped peer connections did, including getStats() candidates and selected pairs. */
export async function readWebRtc(page: EvaluatingPage): Promise<WebRtcRecording> {
  return page.evaluate(async () => {
    type Candidate = { address: string | null; type: string | null; protocol: string | null; url: string | null };
    const recorder = (window as unknown as {
      __leakRecorder?: { pcs: RTCPeerConnection[]; iceServers: string[][]; gathered: Candidate[]; candidateErrors: Array<{ url: string; errorText: string }> };
    }).__leakRecorder;
    if (!recorder) throw new Error('the leak recorder was not installed in this page');
    const local: Candidate[] = [];
    const remote: Candidate[] = [];
    const selectedPairs: Array<{ local: string | null; remote: string | null; protocol: string | null }> = [];
    for (const pc of recorder.pcs) {
      if (pc.connectionState === 'closed') continue;
      const reports = new Map<string, Record<string, unknown>>();
      (await pc.getStats()).forEach((report: Record<string, unknown>) => reports.set(String(report.id), report));
      const candidate = (r: Record<string, unknown> | undefined): Candidate => ({
        address: (r?.address ?? r?.ip ?? null) as string | null,
        type: (r?.candidateType ?? null) as string | null,
        protocol: (r?.protocol ?? null) as string | null,
        url: (r?.url ?? null) as string | null,
      });
      const selected = new Set<string>();
      for (const r of reports.values()) {
        if (r.type === 'local-candidate') local.push(candidate(r));
        if (r.type === 'remote-candidate') remote.push(candidate(r));
        if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') selected.add(r.selectedCandidatePairId);
      }
      // Firefox has no transport stats; it marks the selected pair itself (non-standard `selected`).
      if (selected.size === 0) for (const r of reports.values()) if (r.type === 'candidate-pair' && r.selected === true) selected.add(String(r.id));
      for (const id of selected) {
        const pair = reports.get(id);
        const local = candidate(reports.get(String(pair?.localCandidateId)));
        selectedPairs.push({ local: local.address, remote: candidate(reports.get(String(pair?.remoteCandidateId))).address, protocol: local.protocol });
      }
    }
    return {
      iceServers: recorder.iceServers,
      gathered: recorder.gathered,
      candidateErrors: recorder.candidateErrors,
      stats: { local, remote, selectedPairs },
      peerConnections: recorder.pcs.length,
    };
  });
}

/** Records one browser context. Install before opening pages; read after media has flowed. */
export class LeakRecorder {
  readonly #requests: string[] = [];
  readonly #websockets: string[] = [];
  readonly #pages: Page[] = [];

  /** Start recording `context`: requests of every page and worker, WebSockets, WebRTC. */
  static async install(context: BrowserContext): Promise<LeakRecorder> {
    const recorder = new LeakRecorder();
    await context.addInitScript(wrapPeerConnection);
    context.on('request', (request) => recorder.#requests.push(request.url()));
    context.on('page', (page) => recorder.#watch(page));
    for (const page of context.pages()) recorder.#watch(page);
    return recorder;
  }

  #watch(page: Page): void {
    this.#pages.push(page);
    page.on('websocket', (ws) => this.#websockets.push(ws.url()));
  }

  /** What was recorded so far (WebRTC read from every open page now). */
  async read(): Promise<LeakRecording> {
    const webrtc = await Promise.all(this.#pages.filter((p) => !p.isClosed()).map(readWebRtc));
    return { requests: [...this.#requests], websockets: [...this.#websockets], webrtc };
  }
}

/** Where a Lectern may send things: its origin, and the addresses its media may use. */
export interface AllowedDestinations {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** ICE addresses allowed on either end (loopback and the server's host). */
  iceAddresses: string[];
  /** ICE server URLs the deployment itself hands out (none by default). */
  iceServers?: string[];
}

/** Each foreign destination in a recording, as `what: where`, deduplicated. Empty means no leak. */
export function findLeaks(recording: LeakRecording, allowed: AllowedDestinations): string[] {
  const origin = new URL(allowed.origin);
  const leaks = new Set<string>();
  const sameHost = (url: string): boolean => {
    try {
      const u = new URL(url);
      if (u.protocol === 'data:' || u.protocol === 'blob:') return true;
      return u.host === origin.host && ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol);
    } catch {
      return false;
    }
  };
  for (const url of recording.requests) if (!sameHost(url)) leaks.add(`request to ${url}`);
  for (const url of recording.websockets) if (!sameHost(url)) leaks.add(`websocket to ${url}`);
  const ownServers = new Set(allowed.iceServers ?? []);
  const addressOk = (address: string | null): boolean => address !== null && allowed.iceAddresses.includes(address);
  for (const page of recording.webrtc) {
    for (const url of page.iceServers.flat()) if (!ownServers.has(url)) leaks.add(`ICE server handed to the browser: ${url}`);
    for (const { url } of page.candidateErrors) if (!ownServers.has(url)) leaks.add(`ICE server contacted: ${url}`);
    for (const c of page.gathered) {
      if (!addressOk(c.address)) leaks.add(`local candidate ${c.type ?? '?'} ${c.address ?? '(address hidden)'}`);
      if (c.url && !ownServers.has(c.url)) leaks.add(`candidate from ICE server ${c.url}`);
    }
    for (const c of page.stats.local) if (!addressOk(c.address)) leaks.add(`local candidate (stats) ${c.type ?? '?'} ${c.address ?? '(address hidden)'}`);
    for (const c of page.stats.remote) if (!addressOk(c.address)) leaks.add(`remote candidate ${c.type ?? '?'} ${c.address ?? '(address hidden)'}`);
    for (const pair of page.stats.selectedPairs) {
      if (!addressOk(pair.local) || !addressOk(pair.remote)) leaks.add(`selected candidate pair ${pair.local ?? '?'} -> ${pair.remote ?? '?'}`);
    }
  }
  return [...leaks];
}
