// The summary line CI reads ("Tests: N passed, N failed, N skipped") against real vitest runs of
// deliberately broken files (fixtures/*.fixture.ts, outside the suite's *.test.ts glob): a failed
// beforeAll, a failed afterAll, a module that throws at import and an unhandled rejection are each
// failures in that line, and it never says 0 failed when vitest exits non-zero.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';

const ROOT = projectRoot();
const CONFIG = join(ROOT, 'tests', 'reporter', 'fixtures', 'vitest.config.ts');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const SUMMARY = /^Tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m;

interface Run {
  code: number | null;
  output: string;
  counts: { passed: number; failed: number; skipped: number };
}

/** `vitest run` on the fixture files matching `filter`, in a child process with the summary reporter. */
async function runFixtures(filter: string): Promise<Run> {
  // The child must not think it is a worker of this run.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'NODE_OPTIONS'));
  const child = spawn(process.execPath, [VITEST, 'run', '--config', CONFIG, filter], { cwd: ROOT, env: { ...env, NO_COLOR: '1', CI: '1' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  const lines = output.match(new RegExp(SUMMARY.source, 'gm')) ?? [];
  expect(lines, `exactly one summary line in:\n${output}`).toHaveLength(1);
  const [, passed, failed, skipped] = SUMMARY.exec(output)!;
  return { code, output, counts: { passed: Number(passed), failed: Number(failed), skipped: Number(skipped) } };
}

describe('the summary line', () => {
  it.each([
    // A failed beforeAll: the hook, and both tests it kept from running; the test outside passes.
    ['beforeAll', { passed: 1, failed: 3, skipped: 0 }, 'failed outside a test: beforeAll.fixture.ts > a suite whose setup fails: setup failed'],
    ['afterAll', { passed: 1, failed: 1, skipped: 0 }, 'failed outside a test: afterAll.fixture.ts: teardown failed'],
    ['import', { passed: 0, failed: 1, skipped: 0 }, 'failed outside a test: import.fixture.ts: the module fails at import'],
    ['unhandled', { passed: 1, failed: 1, skipped: 0 }, 'unhandled error: nobody handles this'],
    ['failing', { passed: 1, failed: 1, skipped: 0 }, undefined],
  ])('counts a run of %s.fixture.ts as failed, as vitest does', async (fixture, counts, note) => {
    const run = await runFixtures(`${fixture}.fixture.ts`);
    expect(run.code, run.output).toBe(1);
    expect(run.counts).toEqual(counts);
    if (note) expect(run.output).toContain(note);
  }, 60_000);

  it('counts declared and reasoned skips as skipped, names the reason, and passes', async () => {
    const run = await runFixtures('skips.fixture.ts');
    expect(run.code, run.output).toBe(0);
    expect(run.counts).toEqual({ passed: 1, failed: 0, skipped: 2 });
    expect(run.output).toContain('skipped: skips.fixture.ts > skips itself with a reason: the machine has no such device');
  }, 60_000);

  it('never says 0 failed when vitest exits non-zero, all fixtures at once', async () => {
    const run = await runFixtures('.fixture.ts');
    expect(run.code).toBe(1);
    expect(run.counts).toEqual({ passed: 5, failed: 7, skipped: 2 });
  }, 60_000);
});
