// Finding URLs inside a text value (a string literal's value, a comment, an attribute, a stylesheet)
// and deciding their host with the WHATWG URL parser, the same one the browser uses. A regular
// expression only *locates* where a URL may start; what the host is, is always `new URL`'s answer,
// so userinfo (`https://own@evil/`), backslashes, uppercase schemes, tabs and newlines inside the URL,
// decimal/hex IPv4 and IPv6 literals all come out as the browser would resolve them.

/** Stands for a value the static reader could not work out (a variable, a call). */
export const UNKNOWN_HOST = 'unresolved-value.lectern-static.invalid';
/** Stands for the page's own origin (`location.host`, `location.origin`, `import.meta.url`...). */
export const OWN_HOST = 'own-origin.lectern-static.invalid';
/** The page's own origin as a URL, the base that relative references resolve against. */
export const OWN_ORIGIN = `https://${OWN_HOST}/`;

/** One URL found in a value: as written, and the host the browser would contact. */
export interface FoundUrl {
  url: string;
  host: string;
  /** Offset of the URL in the value. */
  offset: number;
}

/** The outcome of resolving a destination (a sink argument, a URL attribute). */
export type Destination = { kind: 'own' } | { kind: 'foreign'; url: string; host: string } | { kind: 'unresolved'; value: string } | { kind: 'none' };

// XML namespace URIs: identifiers that name a vocabulary, never fetched (the XML and DOM specs).
const NAMESPACE_URIS = new Set([
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1999/xhtml',
  'http://www.w3.org/1999/xlink',
  'http://www.w3.org/1998/Math/MathML',
  'http://www.w3.org/XML/1998/namespace',
  'http://www.w3.org/2000/xmlns/',
]);

// RTP header extension URIs (RFC 8285) are identifiers negotiated in SDP, never fetched; every WebRTC
// client library (mediasoup-client included) carries them as whole string constants. Listed in full,
// not by host, so any other URL on the same hosts (a tracker on www.webrtc.org) is still reported;
// and only as a whole value outside a network call: `fetch("http://www.webrtc.org/...")` is a request.
const RTP_HEADER_EXTENSION_URIS = new Set([
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-timing',
  'http://www.webrtc.org/experiments/rtp-hdrext/color-space',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-frame-tracking-id',
  'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension',
]);

/** Is this whole value an identifier that is provably never fetched (namespace, RTP extension id)? */
export function isNonNetworkIdentifier(value: string): boolean {
  return NAMESPACE_URIS.has(value) || RTP_HEADER_EXTENSION_URIS.has(value);
}

/** Is this whole value an XML namespace URI (allowed in xmlns attributes and *NS() calls)? */
export function isNamespaceUri(value: string): boolean {
  return NAMESPACE_URIS.has(value);
}

// Where a URL may start: `scheme:` + two slashes or backslashes (the URL parser treats `\` as `/`
// for special schemes), a protocol-relative `//` (or `/\`), the slash-less ICE schemes `stun:`/
// `turn:`, or a special scheme with fewer slashes (`http:evil.example` on an https page is absolute).
const START = /([a-z][a-z0-9+.-]*:)?[\\/]{2}|\b(stuns?|turns?):(?![\\/])|\b(https?:|wss?:|ftp:)(?=[\\/]?[a-z0-9[])/gi;
// A URL ends at whitespace other than tab/newline (which the URL parser removes), a quote, or markup.
const BODY = /[^\s"'`<>{}|^]|[\t\n\r]/y;
const TRAILING = /[.,;:!?*)\]]+$/;

/** Every URL in `value` whose host the browser would contact. */
export function findUrls(value: string): FoundUrl[] {
  const found: FoundUrl[] = [];
  for (const m of value.matchAll(START)) {
    const start = m.index;
    let end = start + m[0].length;
    BODY.lastIndex = end;
    while (BODY.test(value)) end = BODY.lastIndex;
    let raw = value.slice(start, end).replace(/[\t\n\r]+$/, '');
    const hasScheme = m[1] !== undefined || m[2] !== undefined || m[3] !== undefined;
    if (!hasScheme && !protocolRelativeAllowed(value, start)) continue;
    raw = trimTrailing(raw);
    const host = hostOfCandidate(raw, hasScheme);
    if (host === null) continue;
    found.push({ url: raw.replace(/[\t\n\r]/g, ''), host, offset: start });
  }
  return found;
}

// `//host` counts when it starts the value or follows something that cannot be part of a path
// (`a//b` in a path is not a URL), or follows an unresolved value (`x + "//evil"`: x may be `https:`).
function protocolRelativeAllowed(value: string, start: number): boolean {
  if (start === 0) return true;
  const before = value[start - 1]!;
  if (/[\s"'`=(,[{>]/.test(before)) return true;
  return value.slice(0, start).endsWith(UNKNOWN_HOST);
}

function trimTrailing(raw: string): string {
  let out = raw.replace(TRAILING, (tail) => {
    // Keep a closing bracket that closes an IPv6 literal.
    return tail.startsWith(']') && raw.includes('[') ? ']' : '';
  });
  if (out.endsWith(']') && !out.includes('[')) out = out.slice(0, -1);
  return out;
}

function hostOfCandidate(raw: string, hasScheme: boolean): string | null {
  const ice = /^(stuns?|turns?):(.*)$/i.exec(raw);
  const text = ice ? `${ice[1]}://${ice[2]!.split('?')[0]}` : hasScheme ? raw : `https:${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (!host) return null;
  // A scheme-less `//word` is a path or a comment far more often than a single-label intranet host;
  // likewise `turn:word` (a label, e.g. a flow id) unless it names a port as a TURN URL does.
  const singleLabel = !host.includes('.') && !host.includes(':') && host !== 'localhost';
  if (singleLabel && ((!hasScheme && !ice) || (ice && !url.port))) return null;
  return host;
}

/** The host a found URL stands for, with the static reader's placeholders interpreted. */
export function classifyHost(host: string): { kind: 'own' } | { kind: 'unresolved' } | { kind: 'foreign'; host: string } {
  for (const sentinel of [OWN_HOST, UNKNOWN_HOST]) {
    if (host === sentinel) return sentinel === OWN_HOST ? { kind: 'own' } : { kind: 'unresolved' };
    // `location.host + ".evil.example"` or `x + ".evil.example"`: the static suffix is a foreign domain.
    const i = host.lastIndexOf(`${sentinel}.`);
    if (i >= 0) return { kind: 'foreign', host: host.slice(i + sentinel.length + 1) };
    // `"cdn." + x`: the registrable part is unknown.
    if (host.endsWith(`.${sentinel}`)) return sentinel === OWN_HOST ? { kind: 'foreign', host } : { kind: 'unresolved' };
  }
  return { kind: 'foreign', host };
}

/** Where a value used as a URL (a sink argument, a src attribute) sends the browser. */
export function resolveDestination(value: string, base: string = OWN_ORIGIN): Destination {
  const v = value.replace(/[\t\n\r]/g, '').trim();
  if (v === '') return { kind: 'own' };
  if (v.startsWith(UNKNOWN_HOST)) return { kind: 'unresolved', value };
  const ice = /^(stuns?|turns?):/i.test(v);
  let url: URL;
  try {
    url = ice ? new URL(`${v.split(':')[0]}://${v.slice(v.indexOf(':') + 1).split('?')[0]}`) : new URL(v, base);
  } catch {
    return { kind: 'none' };
  }
  if (['data:', 'blob:', 'javascript:', 'about:', 'mailto:', 'tel:'].includes(url.protocol)) return { kind: 'none' };
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (!host) return { kind: 'none' };
  const c = classifyHost(host);
  if (c.kind === 'own') return c;
  if (c.kind === 'unresolved') return { kind: 'unresolved', value };
  return { kind: 'foreign', url: v, host: c.host };
}
