// Which pages may open the signalling WebSocket. Browsers let any web page open a WebSocket to any
// host, and send the sign-in cookie along when the sites count as the same site: without this
// check, a page on another port or subdomain of the university could act as the signed-in
// instructor. Browsers always send Origin on a WebSocket handshake and pages cannot forge it;
// programs that send none (tests, the bench, monitoring) carry no browser cookie to abuse.

/** Whether a handshake with this Origin (undefined: none sent) may open the signalling socket. */
export function allowedWebSocketOrigin(origin: string | undefined, host: string | undefined, publicUrl: string | undefined): boolean {
  if (origin === undefined) return true;
  if (publicUrl !== undefined && origin === publicUrl) return true;
  // No public URL configured (a local or single-host setup): the page must come from the very host
  // the socket is opened on, whatever the scheme.
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && host !== undefined && parsed.host === host.toLowerCase();
}
