// The reports as text: the HTML holds no URL, the terminal text names each leak, and the JSON reads
// back as the very report. The HTML rendered in Chromium is tests/browser/auditReport.test.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import { renderHtml } from '../../audit/report/html.js';
import { renderJson, renderText } from '../../audit/report/text.js';
import { scanText } from '../../audit/sources/clientBundle.js';
import { completeFixture } from './helpers/fixtures.js';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

describe('HTML report', () => {
  const leaky = audit(completeFixture('leaky'), new Date('2025-11-28T12:00:00Z'));
  const html = renderHtml(leaky, 'high');

  it('contains no URL at all, even though its findings quote leaking URLs', () => {
    expect(scanText(html, 'report.html', 'markup')).toEqual([]);
    expect(html).not.toMatch(/(src|href)\s*=/i);
    expect(html).toContain('cdn.jsdelivr.net'); // named, defanged
  });
});

describe('text and JSON reports', () => {
  it('text names each leak; JSON round-trips', () => {
    const report = audit(completeFixture('leaky'));
    const text = renderText(report);
    expect(text).toContain('ice-server-not-own-turn: Browsers are told to contact stun.l.google.com');
    expect(text).toContain('Recordings (S3 lectern-recordings-se-7f3a) is in DE, not SE');
    expect(text).toContain('third-party-host: Client loads cdn.jsdelivr.net');
    // Read back, the JSON is the report itself: same values, same plain types, no key lost or
    // turned into something else (a Date, a Map, an undefined would not survive the trip).
    const parsed = JSON.parse(renderJson(report)) as typeof report;
    expect(parsed).toStrictEqual(report);
    // ...and a reader of the JSON learns the findings the terminal shows, in its order.
    const shown = text.split('\n').filter((line) => /^ {2}\S+ +\S+: /.test(line)).map((line) => line.trim().replace(/\s+/, ' '));
    expect(parsed.findings.map((f) => `${f.severity.toUpperCase()} ${f.rule}: ${f.title}`)).toEqual(shown);
    expect(shown.length).toBeGreaterThanOrEqual(3);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'audit-report.html'), renderHtml(report));
  });
});
