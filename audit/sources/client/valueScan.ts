// One rule for every reader: a URL in any value is a reference unless its host is the page's own,
// or the whole value is a known non-network identifier in a position where it is not fetched.
import type { ReferenceContext, ScanSink } from './types.js';
import { classifyHost, findUrls, isNonNetworkIdentifier, resolveDestination } from './urls.js';

/** Report every foreign URL inside `value` (a string's value, a comment, an attribute). */
export function scanValue(sink: ScanSink, value: string, where: { line: number; context: ReferenceContext; how: string; identifiersAllowed?: boolean }): void {
  if (where.identifiersAllowed !== false && isNonNetworkIdentifier(value.trim())) return;
  for (const found of findUrls(value)) {
    const c = classifyHost(found.host);
    if (c.kind !== 'foreign') continue;
    const line = where.line + countNewlines(value, found.offset);
    sink.reference({ line, url: found.url, host: c.host, context: where.context, how: where.how });
  }
}

/** Report where a value used as a URL (a sink argument, a src attribute) sends the browser. */
export function scanDestination(sink: ScanSink, value: string, where: { line: number; context: ReferenceContext; how: string; base?: string }): void {
  const d = resolveDestination(value, where.base);
  if (d.kind === 'foreign') sink.reference({ line: where.line, url: d.url, host: d.host, context: where.context, how: where.how });
  else if (d.kind === 'unresolved') sink.unresolved({ line: where.line, sink: where.how, value: d.value });
  // Inside the value too: `data:text/html,<img src=//evil>`, a redirector's `?to=https://evil`.
  scanValue(sink, value, { ...where, identifiersAllowed: false });
}

/** Newlines in `text` before `offset` (a URL's line inside a multi-line value). */
export function countNewlines(text: string, offset: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
