// HTML escaping for the report. URLs in evidence are shown but defanged (`https&#58;//`), so the
// report contains no URL a scanner (or a careless copy into an attribute) could treat as a request.

/** Escape text for HTML element content and attribute values, and defang scheme separators. */
export function esc(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
    .replace(/\b([a-z][a-z0-9+.-]*):(?=\/\/)/gi, '$1&#58;')
    .replace(/\b(stuns?|turns?):(?=[a-z0-9[])/gi, '$1&#58;');
}
