// Static reading of the built browser client for every destination it could contact. The browser
// leak test proves what a session actually contacts; this reading catches what a session might (a
// CDN fallback, an analytics hook behind a flag) without running it. Each file goes to a real
// reader for its kind: JavaScript through acorn, markup through an HTML tokenizer, CSS with its
// escapes decoded, JSON through JSON.parse; URLs through the WHATWG URL parser (audit/sources/client).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { scanCss } from './client/cssScan.js';
import { scanMarkup } from './client/htmlScan.js';
import { scanJavaScript } from './client/jsScan.js';
import type { BundleReference, ScanSink, UnreadableFile, UnresolvedDestination } from './client/types.js';
import { scanValue } from './client/valueScan.js';

export type { BundleReference, ReferenceContext, UnreadableFile, UnresolvedDestination } from './client/types.js';

/** What a scan saw. */
export interface BundleScan {
  dir: string;
  files: string[];
  /** URLs whose host is not the page's own origin. */
  references: BundleReference[];
  /** Network calls whose destination could not be worked out statically. */
  unresolved: UnresolvedDestination[];
  /** Files that were not what their name says (read as plain text instead). */
  unreadable: UnreadableFile[];
}

/** The reader a file gets, by its extension. */
export type FileKind = 'markup' | 'css' | 'code' | 'json' | 'text';

// Source maps are read by developer tools only, never by the page.
const SKIPPED_EXTENSIONS = new Set(['.map']);

/** Read every file under `dir` that is text (binary files, e.g. images and fonts, are not). */
export function scanClientBundle(dir: string): BundleScan {
  const scan: BundleScan = { dir, files: [], references: [], unresolved: [], unreadable: [] };
  for (const path of listFiles(dir)) {
    if (SKIPPED_EXTENSIONS.has(extname(path).toLowerCase())) continue;
    const bytes = readFileSync(path);
    if (bytes.includes(0)) continue; // binary
    const file = relative(dir, path);
    scan.files.push(file);
    const result = scanFile(bytes.toString('utf8'), file, fileKind(path));
    scan.references.push(...result.references);
    scan.unresolved.push(...result.unresolved);
    scan.unreadable.push(...result.unreadable);
  }
  return scan;
}

/** Read one file's text; every finding is kept once per (line, URL, how). */
export function scanFile(text: string, file: string, kind: FileKind): Pick<BundleScan, 'references' | 'unresolved' | 'unreadable'> {
  const out: Pick<BundleScan, 'references' | 'unresolved' | 'unreadable'> = { references: [], unresolved: [], unreadable: [] };
  const seen = new Set<string>();
  const sink: ScanSink = {
    reference: (ref) => {
      const key = `${ref.line}|${ref.url}|${ref.host}|${ref.context}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.references.push({ file, ...ref });
      }
    },
    unresolved: (u) => {
      const key = `u|${u.line}|${u.sink}|${u.value}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.unresolved.push({ file, ...u });
      }
    },
    unreadable: (problem) => out.unreadable.push({ file, problem }),
  };
  if (kind === 'markup') scanMarkup(text, sink);
  else if (kind === 'css') scanCss(text, sink);
  else if (kind === 'code') scanJavaScript(text, sink);
  else if (kind === 'json') scanJson(text, sink);
  else scanValue(sink, text, { line: 1, context: 'code', how: 'text file', identifiersAllowed: false });
  out.references.sort((a, b) => a.line - b.line);
  return out;
}

/** The references in one text (for tests, and for the HTML report's self-check). */
export function scanText(text: string, file: string, kind: FileKind = 'code'): BundleReference[] {
  return scanFile(text, file, kind).references;
}

function scanJson(text: string, sink: ScanSink): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    sink.unreadable(`not valid JSON: ${(err as Error).message}; read as plain text`);
    scanValue(sink, text, { line: 1, context: 'code', how: 'unparsed text', identifiersAllowed: false });
    return;
  }
  // Line numbers of JSON values are not kept by JSON.parse; the value's text is found to place it.
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const at = text.indexOf(JSON.stringify(v).slice(1, -1));
      const line = at < 0 ? 1 : text.slice(0, at).split('\n').length;
      scanValue(sink, v, { line, context: 'code', how: 'JSON string' });
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (walk(k), walk(x));
  };
  walk(value);
}

function fileKind(path: string): FileKind {
  const ext = extname(path).toLowerCase();
  if (['.html', '.htm', '.xhtml', '.svg', '.xml'].includes(ext)) return 'markup';
  if (ext === '.css') return 'css';
  if (['.js', '.mjs', '.cjs', '.jsx'].includes(ext)) return 'code';
  if (ext === '.json' || ext === '.webmanifest') return 'json';
  return 'text';
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
