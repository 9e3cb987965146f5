// Ends the run with one plain line, "Tests: N passed, N failed, N skipped", that CI reads to judge
// the run. It must never say 0 failed when vitest exits non-zero, so "failed" counts:
//   - tests that failed, or never finished;
//   - tests that could not run because a beforeAll of theirs or their module failed (vitest marks
//     those skipped, which would read as fine);
//   - every error outside a test: a failed beforeAll/afterAll, a module that failed to load;
//   - every unhandled error (an uncaught exception or unhandled rejection during the run);
//   - and, should none of those explain it, a run vitest itself ended as failed or interrupted.
// Each failure outside a test and each skip with a reason is named on a line above the summary.
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, TestSuite } from 'vitest/node';

/** The counts of one run, and the lines that explain the ones a test list would not show. */
export interface RunSummary {
  passed: number;
  failed: number;
  skipped: number;
  notes: string[];
}

const firstLine = (error: SerializedError): string => String(error.message ?? error.name ?? 'unknown error').split('\n')[0]!;

/** Where a test or suite lives, for the notes. */
const where = (entity: TestCase | TestSuite | TestModule): string =>
  entity.type === 'module' ? entity.relativeModuleId : `${entity.module.relativeModuleId} > ${entity.fullName}`;

/** The test's enclosing suites and module that failed outside any test (hooks, collection). */
function failedAncestor(test: TestCase): TestSuite | TestModule | undefined {
  for (let parent: TestSuite | TestModule = test.parent; ; parent = parent.parent) {
    if (parent.errors().length > 0) return parent;
    if (parent.type === 'module') return undefined;
  }
}

/** Count a finished run. */
export function summarise(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): RunSummary {
  const summary: RunSummary = { passed: 0, failed: 0, skipped: 0, notes: [] };
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      const result = test.result();
      if (result.state === 'passed') summary.passed++;
      else if (result.state === 'failed' || result.state === 'pending') summary.failed++;
      else if (test.options.mode === 'run' && result.note === undefined && failedAncestor(test)) {
        // Declared to run, skipped without a reason of its own: its beforeAll or module failed.
        summary.failed++;
        summary.notes.push(`not run (${where(failedAncestor(test)!)} failed): ${where(test)}`);
      } else {
        summary.skipped++;
        if (result.note) summary.notes.push(`skipped: ${where(test)}: ${result.note}`);
      }
    }
    for (const entity of [module, ...module.children.allSuites()]) {
      for (const error of entity.errors()) {
        summary.failed++;
        summary.notes.push(`failed outside a test: ${where(entity)}: ${firstLine(error)}`);
      }
    }
  }
  for (const error of unhandledErrors) {
    summary.failed++;
    summary.notes.push(`unhandled error: ${firstLine(error)}`);
  }
  if (reason !== 'passed' && summary.failed === 0) {
    summary.failed++;
    summary.notes.push(`the run ended ${reason} without a failing test`);
  }
  return summary;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const { passed, failed, skipped, notes } = summarise(modules, unhandledErrors, reason);
    for (const note of notes) console.log(note);
    console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
