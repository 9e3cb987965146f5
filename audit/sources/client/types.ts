// What the client-code reader reports: URLs that leave the page's origin, and network calls whose
// destination it could not work out.

/** How a URL occurs in a file: loaded by markup/CSS, present in code, or only in a comment. */
export type ReferenceContext = 'markup' | 'css' | 'code' | 'comment';

/** One URL found in a built file, whose host is not the page's own origin. */
export interface BundleReference {
  /** Path relative to the scanned directory. */
  file: string;
  line: number;
  url: string;
  host: string;
  context: ReferenceContext;
  /** Where exactly: `string value`, `fetch() argument`, `src attribute`, `css url()`, `comment`... */
  how: string;
}

/** A network call (fetch, WebSocket, ...) whose destination is not statically known. */
export interface UnresolvedDestination {
  file: string;
  line: number;
  /** The call, e.g. `new WebSocket()`. */
  sink: string;
  /** The argument as the reader saw it (placeholders for unknown parts). */
  value: string;
}

/** A file the reader could not parse as what its name says (it was then read as plain text). */
export interface UnreadableFile {
  file: string;
  problem: string;
}

/** Collects what one file's readers find. */
export interface ScanSink {
  reference(ref: Omit<BundleReference, 'file'>): void;
  unresolved(u: Omit<UnresolvedDestination, 'file'>): void;
  unreadable(problem: string): void;
}
