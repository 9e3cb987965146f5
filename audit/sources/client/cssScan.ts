// Stylesheets: comments apart, escapes decoded (`url(https\3a //evil)` is `url(https://evil)` to the
// browser), then every url(), @import and image-set() target is found by the one URL finder.
import type { ScanSink } from './types.js';
import { scanValue } from './valueScan.js';

/** Read one stylesheet (a .css file, a <style> element, a style="" attribute). */
export function scanCss(text: string, sink: ScanSink, lineOffset = 0, how = 'stylesheet'): void {
  let body = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      const comment = text.slice(i + 2, end < 0 ? text.length : end);
      scanValue(sink, comment, { line: lineOffset + lineAt(text, i), context: 'comment', how: 'css comment', identifiersAllowed: false });
      body += comment.replace(/[^\n]/g, ' ') + '    ';
      i = stop;
      continue;
    }
    body += text[i];
    i++;
  }
  scanValue(sink, decodeCssEscapes(body), { line: lineOffset + 1, context: 'css', how, identifiersAllowed: false });
}

/** CSS Syntax §4.3.7: `\` + 1–6 hex digits (+ one whitespace), `\` + newline (a continuation), `\` + char. */
export function decodeCssEscapes(text: string): string {
  return text.replace(/\\(?:([0-9a-f]{1,6})(?:\r\n|[ \t\r\n\f])?|(\r\n|[\n\r\f])|([^]))/gi, (_m, hex: string | undefined, nl: string | undefined, ch: string | undefined) => {
    if (hex) {
      const cp = parseInt(hex, 16);
      return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : String.fromCodePoint(cp);
    }
    // A continuation keeps the newline so line numbers stay right; it cannot join a URL anyway.
    if (nl) return nl;
    return ch ?? '';
  });
}

function lineAt(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
