// Issue 13 item 2: every network destination in the client is the deployment's own, or it is a
// finding. A generated sweep: each foreign destination form in each layout, dropped into the real
// built client, must make `lectern audit` exit non-zero, alone and with the deployment's config;
// the same layouts with the deployment's own destinations, and the real bundle itself, exit 0.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../audit/cli.js';
import { FIXTURES } from './helpers/fixtures.js';
import { foreignVariants, ownVariants, type Variant } from './helpers/urlVariants.js';

const REAL = join(import.meta.dirname, '..', '..', 'client', 'dist');
const CONFIG = join(FIXTURES, 'clean', 'lectern.json');
const root = mkdtempSync(join(tmpdir(), 'lectern-url-sweep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function exitCode(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['audit', ...args], (t) => (out += t), (t) => (out += t));
  return { code, out };
}

let n = 0;
/** The real client with one file replaced by the variant's. */
function clientWith(v: Variant): string {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  for (const f of ['index.html', 'styles.css'] as const) if (v.file.name !== f) copyFileSync(join(REAL, f), join(dir, f));
  // The real app.js is audited on its own below; a variant's own app.js stands in for it here.
  if (v.file.name !== 'app.js') writeFileSync(join(dir, 'app.js'), 'export const ok = 1;\n');
  writeFileSync(join(dir, v.file.name), v.file.content);
  return dir;
}

describe('client-code URL sweep', () => {
  it('needs the real built client (npm run build:client)', () => {
    expect(existsSync(join(REAL, 'app.js')), `${REAL}/app.js missing: run npm run build:client`).toBe(true);
  });

  it('the real client bundle, audited on its own and with its config, exits 0', async () => {
    const alone = await exitCode(['--client-dir', REAL]);
    expect(alone.code, alone.out).toBe(0);
    const withConfig = await exitCode(['--client-dir', REAL, '--config', CONFIG]);
    expect(withConfig.code, withConfig.out).toBe(0);
  });

  it('every foreign destination form in every layout exits non-zero, alone and with the config', async () => {
    const variants = foreignVariants();
    const missed: string[] = [];
    for (const v of variants) {
      const dir = clientWith(v);
      for (const extra of [[], ['--config', CONFIG]]) {
        const { code } = await exitCode(['--client-dir', dir, ...extra]);
        if (code !== 1) missed.push(`${extra.length ? 'with config' : 'alone'}: ${v.name} (exit ${code})`);
      }
      rmSync(dir, { recursive: true });
    }
    console.log(`client URL sweep: ${variants.length} foreign variants x 2 inputs = ${variants.length * 2} audits, ${variants.length * 2 - missed.length} exited non-zero`);
    expect(missed).toEqual([]);
    expect(variants.length).toBeGreaterThan(1000);
  }, 600_000);

  it("the same layouts with the deployment's own destinations exit 0 (the sweep can tell them apart)", async () => {
    const variants = ownVariants();
    const flagged: string[] = [];
    for (const v of variants) {
      const dir = clientWith(v);
      const { code, out } = await exitCode(['--client-dir', dir, '--config', CONFIG]);
      if (code !== 0) flagged.push(`${v.name}: ${out.split('\n').filter((l) => /HIGH|CRITICAL/.test(l)).join(' / ')}`);
      rmSync(dir, { recursive: true });
    }
    console.log(`client URL sweep: ${variants.length} own-destination variants, ${variants.length - flagged.length} exited 0`);
    expect(flagged).toEqual([]);
  }, 600_000);
});
