// An init script for a page (context.addInitScript): keeps every RTCPeerConnection the page makes in
// `window.__pcs`, so a test can read their stats (inbound streams, RTP counters). Serialised into the
// page, so it must stay self-contained.

/** Runs in the page before its scripts. */
export function watchPeerConnections(): void {
  const w = window as unknown as { RTCPeerConnection: typeof RTCPeerConnection; __pcs: RTCPeerConnection[] };
  const pcs: RTCPeerConnection[] = [];
  w.__pcs = pcs;
  const Native = w.RTCPeerConnection;
  w.RTCPeerConnection = class Watched extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      pcs.push(this);
    }
  };
}
