// The two cases every generated residency sweep makes (the Swedish fixture and each example stack), in one
// place so the stacks cannot drift apart in what "clean" and "every variant caught" mean.
import { expect, it } from 'vitest';
import { auditGraph, packGraph, runSweep, type SweepBase } from './sweep.js';

/** A getter, because the infra stacks build their base in `beforeAll`, after the cases are declared. */
type BaseOf = () => SweepBase;

export function itPassesClean(baseOf: BaseOf): void {
  it('the clean stack passes the audit (exit 0) and the pack (no violation)', async () => {
    const base = baseOf();
    expect(auditGraph(base, base.graph)).toEqual({ code: 0, failing: [] });
    expect(await packGraph(base, base.graph)).toEqual([]);
  });
}

export function itCatchesEveryVariant(baseOf: BaseOf): void {
  it('every variant fails the audit and is refused by the pack, naming the resource', async () => {
    const result = await runSweep(baseOf());
    expect(result.missedByAudit).toEqual([]);
    expect(result.missedByPack).toEqual([]);
    expect(result.caughtByAudit).toBe(result.variants);
    expect(result.caughtByPack).toBe(result.variants);
  }, 120_000);
}
