// The audit's HTML report rendered in real Chromium: the diagram above the findings, every flow
// drawn in the column of where it really is, and nothing fetched. In the browser project (one file
// at a time) like every other Chromium test.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import { renderHtml } from '../../audit/report/html.js';
import { completeFixture } from '../audit/helpers/fixtures.js';
import { launchChromium, nonLoopbackInterfaces, PageErrors } from '../helpers/chromium.js';
import { projectRoot } from '../../server/paths.js';

const ARTIFACTS = join(projectRoot(), 'tests', 'artifacts');
const AT = new Date('2025-11-28T12:00:00Z');

let browser: Browser;
const pageErrors = new PageErrors();
const pages: Page[] = [];

beforeAll(async () => {
  expect(nonLoopbackInterfaces(), 'run the browser tests through scripts/in-netns.sh (npm test does)').toEqual([]);
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
  pageErrors.expectNone();
});

afterAll(async () => {
  await browser?.close();
});

/** A page showing `html`, recording every request it makes. */
async function show(html: string, viewport: { width: number; height: number }): Promise<{ page: Page; requests: string[] }> {
  const page = pageErrors.watch(await browser.newPage({ viewport, deviceScaleFactor: 1 }), 'report');
  pages.push(page);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.setContent(html, { waitUntil: 'load' });
  return { page, requests };
}

/** Each drawn column: its tone, its title, the ids of the flows drawn in it, and those whose box is not inside the column's. */
async function drawnColumns(page: Page): Promise<Array<{ tone: string; title: string; flows: string[]; outside: string[] }>> {
  return page.locator('svg.diagram g.column').evaluateAll((columns) =>
    columns.map((column) => {
      const box = column.querySelector('rect')!.getBoundingClientRect();
      const flows = [...column.querySelectorAll<SVGGElement>('g.flow')];
      // The flow's box (its first rect), not its text: labels are clipped by length, not by width.
      const inside = (r: DOMRect) => r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
      return {
        tone: column.getAttribute('class')!.replace('column ', ''),
        title: column.querySelector('text')?.textContent ?? '',
        flows: flows.map((g) => g.dataset.flow!),
        outside: flows.filter((g) => !inside(g.querySelector('rect')!.getBoundingClientRect())).map((g) => g.dataset.flow!),
      };
    }),
  );
}

describe('HTML report in Chromium', () => {
  it('renders with the diagram above the findings, red for the foreign flows, and fetches nothing', async () => {
    const leaky = audit(completeFixture('leaky'), AT);
    const { page, requests } = await show(renderHtml(leaky, 'high'), { width: 1500, height: 1100 });
    const svg = page.locator('svg.diagram');
    await expect(svg.count()).resolves.toBe(1);
    const diagramTop = await svg.evaluate((e) => e.getBoundingClientRect().top);
    const tableTop = await page.locator('table.findings').evaluate((e) => e.getBoundingClientRect().top);
    expect(diagramTop).toBeLessThan(tableTop);
    const columns = await page.locator('svg g.column').evaluateAll((gs) => gs.map((g) => [g.getAttribute('class'), g.querySelector('text')?.textContent]));
    expect(columns[0]).toEqual(['column home', 'Sweden (SE)']);
    expect(columns).toContainEqual(['column foreign', '⚠ Germany (DE)']);
    expect(columns).toContainEqual(['column foreign', '⚠ United States (US)']);
    expect(await page.locator('svg g.flow').count()).toBe(leaky.model.flows.length);
    expect(await page.locator('.verdict.fail').textContent()).toContain('FAIL');
    await page.screenshot({ path: join(ARTIFACTS, 'audit-report.png'), fullPage: true });
    await page.locator('section').first().screenshot({ path: join(ARTIFACTS, 'audit-report-diagram.png') });
    expect(requests).toEqual([]);
  }, 30_000);

  it('the clean report passes and draws everything in the home column or honestly outside it', async () => {
    const clean = audit(completeFixture('clean'), AT);
    const { page, requests } = await show(renderHtml(clean, 'high'), { width: 1500, height: 1000 });
    expect(await page.locator('.verdict.pass').count()).toBe(1);
    const ids = (where: (flow: (typeof clean.model.flows)[number]) => boolean) => clean.model.flows.filter(where).map((f) => f.id).sort();
    const columns = await drawnColumns(page);
    // One column per place, Sweden first; each flow drawn once, inside the box of its own column.
    expect(columns.map((c) => [c.tone, c.title, c.flows.sort()])).toEqual([
      ['home', 'Sweden (SE)', ids((f) => f.location.country === 'SE')],
      ['foreign', '⚠ United States (US)', ['tls-issuance:TLS certificates (ACME)']],
      ['foreign', '⚠ AWS global services', ['control-plane:IAM metadata']],
      ['unknown', 'Location unknown', ids((f) => f.location.country === null)],
    ]);
    expect(columns.flatMap((c) => c.flows).sort()).toEqual(ids(() => true));
    expect(columns.flatMap((c) => c.outside)).toEqual([]);
    // The two drawn abroad are exactly what the report's findings own up to, and nothing is red but them;
    // the only other findings are the low ones for egress to named destinations (Let's Encrypt,
    // package mirrors) that have no fixed addresses, so their security-group rules are wider than the list.
    expect(clean.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity}: ${f.title}`).sort()).toEqual([
      'low: Egress tcp/443 to 0.0.0.0/0 is wider than its destinations',
      'low: Egress tcp/80 to 0.0.0.0/0 is wider than its destinations',
      'low: TLS certificates (ACME) is in US, not SE',
      'medium: IAM metadata is held outside SE',
    ]);
    expect(await page.locator('svg.diagram path[stroke="#dc2626"]').count()).toBe(0); // no browser-facing flow goes abroad
    await page.screenshot({ path: join(ARTIFACTS, 'audit-report-clean.png'), fullPage: true });
    expect(requests).toEqual([]);
  }, 30_000);
});
