// CSV for spreadsheets that instructors open by double-click. Two dangers: a comma, quote or line
// break inside a cell (RFC 4180 quoting), and a cell a spreadsheet runs as a formula (OWASP "CSV
// injection": a student answering `=HYPERLINK(...)` or `@SUM(...)`). A cell starting with = + - @,
// tab or carriage return is prefixed with an apostrophe, which spreadsheets show as text.

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell, safe to open in a spreadsheet. */
export function csvCell(value: string | number): string {
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows to CSV text, CRLF line ends (RFC 4180). */
export function toCsv(rows: (string | number)[][]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
