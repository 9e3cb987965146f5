// Which pages may open the signalling WebSocket. Browsers let any web page open a WebSocket to any
// host, and send the sign-in cookie along when the sites count as the same site: without this
// check, a page on another port or subdomain of the university could act as the signed-in
// instructor. Browsers always send Origin on a WebSocket handshake and pages cannot forge it;
// programs that send none (tests, the bench, monitoring) carry no browser cookie to abuse.

// Without a public URL the page must come from the very host the socket is opened on — and that
// host must be a loopback name. Host equal to Origin is not enough on its own: DNS rebinding points
// attacker.example at 127.0.0.1, and the attacker's page then sends Host = Origin =
// attacker.example:3000 to a local Lectern. A deployment reachable by other names sets
// http.publicUrl, and only that origin is accepted.

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_NAMES.has(hostname) || hostname.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Whether a handshake with this Origin (undefined: none sent) may open the signalling socket. */
export function allowedWebSocketOrigin(origin: string | undefined, host: string | undefined, publicUrl: string | undefined): boolean {
  if (origin === undefined) return true;
  if (publicUrl !== undefined) return origin === new URL(publicUrl).origin;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  return host !== undefined && parsed.host === host.toLowerCase() && isLoopbackHostname(parsed.hostname);
}
