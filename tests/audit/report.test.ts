import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import { renderHtml } from '../../audit/report/html.js';
import { renderJson, renderText } from '../../audit/report/text.js';
import { scanText } from '../../audit/sources/clientBundle.js';
import { completeFixture } from './helpers/fixtures.js';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('HTML report', () => {
  const leaky = audit(completeFixture('leaky'), new Date('2025-11-28T12:00:00Z'));
  const html = renderHtml(leaky, 'high');
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('contains no URL at all, even though its findings quote leaking URLs', () => {
    expect(scanText(html, 'report.html', 'markup')).toEqual([]);
    expect(html).not.toMatch(/(src|href)\s*=/i);
    expect(html).toContain('cdn.jsdelivr.net'); // named, defanged
  });

  it('renders in Chromium with the diagram above the findings, red for the foreign flows, and fetches nothing', async () => {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1100 }, deviceScaleFactor: 1 });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html, { waitUntil: 'load' });
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
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'audit-report.png'), fullPage: true });
    await page.locator('section').first().screenshot({ path: join(ARTIFACTS, 'audit-report-diagram.png') });
    expect(requests).toEqual([]);
    await page.close();
  }, 30_000);

  it('the clean report passes and draws everything in the home column or honestly outside it', async () => {
    const clean = audit(completeFixture('clean'), new Date('2025-11-28T12:00:00Z'));
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    await page.setContent(renderHtml(clean, 'high'));
    expect(await page.locator('.verdict.pass').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'audit-report-clean.png'), fullPage: true });
    await page.close();
  }, 30_000);
});

describe('text and JSON reports', () => {
  it('text names each leak; JSON round-trips', () => {
    const report = audit(completeFixture('leaky'));
    const text = renderText(report);
    expect(text).toContain('ice-server-not-own-turn: Browsers are told to contact stun.l.google.com');
    expect(text).toContain('Recordings (S3 lectern-recordings-se-7f3a) is in DE, not SE');
    expect(text).toContain('third-party-host: Client loads cdn.jsdelivr.net');
    expect(JSON.parse(renderJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'audit-report.html'), renderHtml(report));
  });
});
