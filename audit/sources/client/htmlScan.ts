// Markup (HTML, SVG, XML) read as the HTML tokenizer reads it: tags and their attributes (quoted,
// unquoted, entity-encoded), comments, and the raw text of <script> and <style>, which go to the
// JavaScript and CSS readers. Every attribute value is scanned for URLs; the URL-valued ones
// (src, href, srcset, action, ...) are resolved against the page's origin as the browser would.
import { scanCss } from './cssScan.js';
import { scanJavaScript } from './jsScan.js';
import type { ScanSink } from './types.js';
import { isNamespaceUri } from './urls.js';
import { countNewlines, scanDestination, scanValue } from './valueScan.js';

// Attributes whose value is one URL the browser loads or navigates to (HTML, SVG, MathML).
const URL_ATTRIBUTES = new Set(['src', 'href', 'action', 'formaction', 'data', 'poster', 'background', 'cite', 'longdesc', 'manifest', 'icon', 'codebase', 'xlink:href', 'lowsrc', 'dynsrc', 'itemtype', 'profile', 'usemap']);
// Attributes holding several URLs: srcset-style candidate lists, and space-separated lists.
const SRCSET_ATTRIBUTES = new Set(['srcset', 'imagesrcset']);
const LIST_ATTRIBUTES = new Set(['ping', 'archive']);
const JS_TYPES = /^(|module|text\/javascript|application\/javascript|text\/ecmascript|application\/ecmascript|text\/jsx)$/i;

interface Attribute {
  name: string;
  value: string;
  offset: number;
}

/** Read one markup text. */
export function scanMarkup(text: string, sink: ScanSink): void {
  const line = (offset: number): number => 1 + countNewlines(text, offset);
  let i = 0;
  let textStart = 0;
  const flushText = (end: number): void => {
    // Text is shown, never fetched: read as written (a defanged `https&#58;//` in a report stays prose).
    if (end > textStart) scanValue(sink, text.slice(textStart, end), { line: line(textStart), context: 'markup', how: 'text', identifiersAllowed: false });
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      flushText(lt);
      const end = text.indexOf('-->', lt + 4);
      const stop = end < 0 ? text.length : end;
      scanValue(sink, text.slice(lt + 4, stop), { line: line(lt), context: 'comment', how: 'markup comment', identifiersAllowed: false });
      i = textStart = end < 0 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      flushText(lt);
      const end = text.indexOf(']]>', lt);
      const stop = end < 0 ? text.length : end;
      scanValue(sink, text.slice(lt + 9, stop), { line: line(lt), context: 'markup', how: 'CDATA', identifiersAllowed: false });
      i = textStart = end < 0 ? text.length : end + 3;
      continue;
    }
    const tag = /^<(\/?)([a-zA-Z][^\s/>]*)/.exec(text.slice(lt, lt + 200));
    if (!tag) {
      if (text[lt + 1] === '!' || text[lt + 1] === '?') {
        // <!doctype ...>, <?xml ...?>: read their text too (a DTD can name an external URL).
        flushText(lt);
        const end = text.indexOf('>', lt);
        const stop = end < 0 ? text.length : end;
        scanValue(sink, text.slice(lt, stop), { line: line(lt), context: 'markup', how: 'declaration', identifiersAllowed: false });
        i = textStart = stop + 1;
        continue;
      }
      i = lt + 1;
      continue;
    }
    flushText(lt);
    const name = tag[2]!.toLowerCase();
    const { attributes, end } = readAttributes(text, lt + tag[0].length);
    i = textStart = end;
    if (tag[1]) continue;
    for (const attr of attributes) scanAttribute(sink, name, attr, line(attr.offset));
    if (name === 'script' || name === 'style') {
      const close = text.toLowerCase().indexOf(`</${name}`, end);
      const stop = close < 0 ? text.length : close;
      const body = text.slice(end, stop);
      const type = attributes.find((a) => a.name === 'type')?.value.trim() ?? '';
      if (name === 'style') scanCss(body, sink, line(end) - 1, '<style>');
      else if (JS_TYPES.test(type)) scanJavaScript(body, sink, line(end) - 1);
      // importmap, JSON and templates: their strings are destinations as much as any.
      else scanValue(sink, body, { line: line(end), context: 'markup', how: `<script type="${type}">`, identifiersAllowed: false });
      i = textStart = stop;
    }
  }
  flushText(text.length);
}

function scanAttribute(sink: ScanSink, tag: string, attr: Attribute, line: number): void {
  const value = decodeEntities(attr.value);
  const how = `${attr.name} attribute of <${tag}>`;
  // xmlns="http://www.w3.org/2000/svg" names a vocabulary; nothing else is allowed to.
  if ((attr.name === 'xmlns' || attr.name.startsWith('xmlns:')) && isNamespaceUri(value.trim())) return;
  if (attr.name === 'style') return scanCss(value, sink, line - 1, how);
  if (attr.name.startsWith('on')) return scanJavaScript(value, sink, line - 1);
  if (URL_ATTRIBUTES.has(attr.name)) return scanDestination(sink, value, { line, context: 'markup', how });
  if (SRCSET_ATTRIBUTES.has(attr.name)) {
    // HTML §4.8.4.3: comma-separated candidates, each a URL then an optional descriptor. A URL with
    // a comma in it (data:) splits wrongly here, but the whole value is scanned below as well.
    for (const candidate of value.split(',')) {
      const url = candidate.trim().split(/\s+/)[0];
      if (url) scanDestination(sink, url, { line, context: 'markup', how });
    }
    return scanValue(sink, value, { line, context: 'markup', how, identifiersAllowed: false });
  }
  if (LIST_ATTRIBUTES.has(attr.name)) {
    for (const url of value.trim().split(/\s+/)) if (url) scanDestination(sink, url, { line, context: 'markup', how });
    return;
  }
  // Any other attribute (content="0;url=...", data-*): a URL in it is reported all the same.
  scanValue(sink, value, { line, context: 'markup', how, identifiersAllowed: false });
}

/** HTML §13.2.5.32–.40: attribute names and values after a tag name, up to the closing `>`. */
function readAttributes(text: string, from: number): { attributes: Attribute[]; end: number } {
  const attributes: Attribute[] = [];
  let i = from;
  const n = text.length;
  while (i < n) {
    while (i < n && /[\s/]/.test(text[i]!)) i++;
    if (i >= n || text[i] === '>') return { attributes, end: i + 1 };
    const nameStart = i;
    i++; // the first character may be `=` (HTML treats it as part of the name)
    while (i < n && !/[\s/>=]/.test(text[i]!)) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    while (i < n && /\s/.test(text[i]!)) i++;
    if (text[i] !== '=') {
      attributes.push({ name, value: '', offset: nameStart });
      continue;
    }
    i++;
    while (i < n && /\s/.test(text[i]!)) i++;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const end = text.indexOf(quote, i + 1);
      const stop = end < 0 ? n : end;
      attributes.push({ name, value: text.slice(i + 1, stop), offset: i + 1 });
      i = stop + 1;
    } else {
      const start = i;
      while (i < n && !/[\s>]/.test(text[i]!)) i++;
      attributes.push({ name, value: text.slice(start, i), offset: start });
    }
  }
  return { attributes, end: n };
}

// The named references that can spell a URL's punctuation; numeric references cover everything else.
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", colon: ':', sol: '/', bsol: '\\', period: '.', commat: '@', num: '#', quest: '?', equals: '=', percnt: '%', lpar: '(', rpar: ')', tab: '\t', newline: '\n', nbsp: '\u00a0', dollar: '$', plus: '+', comma: ',', semi: ';', lowbar: '_', hyphen: '-', dash: '-' };

/** Decode character references as the tokenizer does (the `;` is optional for numeric ones). */
export function decodeEntities(value: string): string {
  return value.replace(/&(?:#x([0-9a-f]+);?|#([0-9]+);?|([a-z]+);)/gi, (m, hex: string | undefined, dec: string | undefined, named: string | undefined) => {
    if (hex || dec) {
      const cp = parseInt(hex ?? dec!, hex ? 16 : 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
    }
    return NAMED[named!.toLowerCase()] ?? m;
  });
}
