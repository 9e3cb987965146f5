// Reading the log file back: split into lines, keep byte offsets, parse each line strictly.
import type { AuditRecord } from './types.js';

/** One line of the file, with where it sits and whether it was finished by a newline. */
export interface RawLine {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line's newline (or past its last byte when unterminated). */
  end: number;
  text: string;
  terminated: boolean;
}

/** Split file bytes into lines; the last line is unterminated when the file does not end in \n. */
export function splitLines(bytes: Buffer): RawLine[] {
  const lines: RawLine[] = [];
  let start = 0;
  let line = 1;
  while (start < bytes.length) {
    const nl = bytes.indexOf(0x0a, start);
    const terminated = nl !== -1;
    const stop = terminated ? nl : bytes.length;
    lines.push({ line, start, end: terminated ? nl + 1 : stop, text: bytes.subarray(start, stop).toString('utf8'), terminated });
    start = stop + 1;
    line += 1;
  }
  return lines;
}

/** Parse one line into a record, or say why it is not one. */
export function parseRecord(text: string): { record: AuditRecord } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `not JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'not a JSON object' };
  const v = value as Record<string, unknown>;
  const strings = ['time', 'actor', 'action', 'subject', 'prevHash', 'hash', 'sig'] as const;
  for (const key of strings) if (typeof v[key] !== 'string') return { error: `field ${key} missing or not a string` };
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 0) return { error: 'field seq missing or not a whole number' };
  if (typeof v.details !== 'object' || v.details === null || Array.isArray(v.details)) {
    return { error: 'field details missing or not an object' };
  }
  const known = new Set(['seq', 'details', ...strings]);
  const extra = Object.keys(v).filter((k) => !known.has(k));
  if (extra.length > 0) return { error: `unexpected field(s) ${extra.join(', ')}` };
  return { record: value as AuditRecord };
}
