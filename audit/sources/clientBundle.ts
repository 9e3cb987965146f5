// Static scan of the built browser client for every hostname it could contact. The browser leak test
// proves what a session actually contacts; this scan catches what a session might (a CDN fallback,
// an analytics hook behind a flag) without running it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';

/** How a URL occurs in a file: loaded by markup/CSS, present in code, or only in a comment. */
export type ReferenceContext = 'markup' | 'css' | 'code' | 'comment';

/** One URL found in a built file. */
export interface BundleReference {
  /** Path relative to the scanned directory. */
  file: string;
  line: number;
  url: string;
  host: string;
  context: ReferenceContext;
}

/** What a scan saw. */
export interface BundleScan {
  dir: string;
  files: string[];
  references: BundleReference[];
}

const TEXT_EXTENSIONS = new Set(['.html', '.htm', '.js', '.mjs', '.cjs', '.css', '.json', '.svg', '.webmanifest', '.txt', '.xml']);

// XML namespace URIs are identifiers, never fetched.
const NAMESPACE_URIS = [
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1999/xhtml',
  'http://www.w3.org/1999/xlink',
  'http://www.w3.org/1998/Math/MathML',
  'http://www.w3.org/XML/1998/namespace',
  'http://www.w3.org/2000/xmlns/',
];

// RTP header extension URIs (RFC 8285) are identifiers negotiated in SDP, never fetched; every
// WebRTC client library (mediasoup-client included) carries them. Listed in full, not by host, so a
// real request to the same host is still reported. The browser leak test proves none is contacted.
const RTP_HEADER_EXTENSION_URIS = [
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-timing',
  'http://www.webrtc.org/experiments/rtp-hdrext/color-space',
  'http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00',
  'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension',
];

// scheme://host or scheme:host (stun:, turn:) or protocol-relative //host in a quoted/url() position.
const URL_PATTERN = /\b((?:https?|wss?|ftp):\/\/|(?:stuns?|turns?):(?:\/\/)?)([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::\d+)?[^\s"'`<>)\\]*/gi;
const PROTOCOL_RELATIVE = /(["'(=]\s*)\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?=[/:"')?#])/gi;

/** Scan every text file under `dir` (source maps excluded: browsers fetch them only with devtools open). */
export function scanClientBundle(dir: string): BundleScan {
  const files = listFiles(dir).filter((f) => TEXT_EXTENSIONS.has(extname(f).toLowerCase()));
  const references: BundleReference[] = [];
  for (const path of files) {
    const text = readFileSync(path, 'utf8');
    const kind = fileKind(path);
    references.push(...scanText(text, relative(dir, path), kind));
  }
  return { dir, files: files.map((f) => relative(dir, f)), references };
}

/** Scan one file's text (exported for tests and for the HTML report's own self-check). */
export function scanText(text: string, file: string, kind: 'markup' | 'css' | 'code' = 'code'): BundleReference[] {
  const found: BundleReference[] = [];
  const lines = text.split('\n');
  lines.forEach((lineText, index) => {
    const comment = isCommentLine(lineText);
    for (const match of lineText.matchAll(URL_PATTERN)) {
      const url = match[0].replace(/[.,;]+$/, '');
      if (NAMESPACE_URIS.some((ns) => url.startsWith(ns))) continue;
      if (RTP_HEADER_EXTENSION_URIS.includes(url)) continue;
      const host = (match[2] ?? '').toLowerCase().replace(/^\[|\]$/g, '');
      if (!host.includes('.') && !host.includes(':') && host !== 'localhost') continue; // `http://` + variable
      found.push({ file, line: index + 1, url, host, context: comment ? 'comment' : kind });
    }
    for (const match of lineText.matchAll(PROTOCOL_RELATIVE)) {
      const host = (match[2] ?? '').toLowerCase();
      found.push({ file, line: index + 1, url: `//${host}`, host, context: comment ? 'comment' : kind });
    }
  });
  return found;
}

function fileKind(path: string): 'markup' | 'css' | 'code' {
  const ext = extname(path).toLowerCase();
  if (ext === '.html' || ext === '.htm' || ext === '.svg' || ext === '.xml') return 'markup';
  if (ext === '.css') return 'css';
  return 'code';
}

// Bundlers put legal comments on their own lines (`/*! ... */`, ` * ...`, `//! ...`).
function isCommentLine(line: string): boolean {
  const t = line.trimStart();
  return t.startsWith('//') || t.startsWith('/*') || t.startsWith('* ') || t === '*' || t.startsWith('<!--');
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const info = statSync(path);
    if (info.isDirectory()) out.push(...listFiles(path));
    else if (info.isFile()) out.push(path);
  }
  return out.sort();
}
