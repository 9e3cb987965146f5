// A page's network path to the SFU, changed inside the page itself (an init script: Playwright's
// addInitScript, Puppeteer's evaluateOnNewDocument), for Chromium and Firefox alike.
import type { BrowserContext } from 'playwright-core';

/** How the page's path to the SFU is changed (see networkPath). */
export interface NetworkPath {
  /** Drop the server's UDP candidates: only ICE-TCP is left. */
  blockUdp?: boolean;
  /** Worker UDP port -> port to use instead. */
  udpVia?: Record<string, number>;
}

/**
 * The page's path to the SFU, changed by rewriting the server's candidates in every remote
 * description: `blockUdp` drops the UDP ones (a campus network that blocks UDP: only ICE-TCP is
 * left); `udpVia` sends UDP to a relay port instead of the worker's (and drops TCP, so media
 * cannot go around the relay). Runs in the page before its scripts; self-contained (serialised).
 */
export function networkPath(path: NetworkPath): void {
  const candidate = /^(a=candidate:\S+ \d+ )(udp|tcp)( \d+ \S+ )(\d+)( .*)$/i;
  const rewrite = (line: string): string | undefined => {
    const m = candidate.exec(line);
    if (!m) return line;
    const udp = m[2]!.toLowerCase() === 'udp';
    if (udp && path.blockUdp) return undefined;
    if (!path.udpVia) return line;
    if (!udp) return undefined;
    return `${m[1]}${m[2]}${m[3]}${path.udpVia[m[4]!] ?? m[4]}${m[5]}`;
  };
  const proto = RTCPeerConnection.prototype;
  const setRemote = proto.setRemoteDescription as (this: RTCPeerConnection, d: RTCSessionDescriptionInit) => Promise<void>;
  proto.setRemoteDescription = function (this: RTCPeerConnection, description: RTCSessionDescriptionInit) {
    const sdp = description.sdp
      ?.split('\r\n')
      .map(rewrite)
      .filter((line) => line !== undefined)
      .join('\r\n');
    return setRemote.call(this, sdp === undefined ? description : { type: description.type, sdp });
  } as typeof proto.setRemoteDescription;
}

/** Make every page of a Playwright `context` use `path`. */
export async function useNetworkPath(context: BrowserContext, path: NetworkPath): Promise<void> {
  await context.addInitScript(networkPath, path);
}
