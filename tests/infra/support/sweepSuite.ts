// The generated residency sweep over one example stack (the program's own resources under mocks): every
// leaky variant fails `lectern audit` and is refused by the policy pack; the clean stack passes both; the
// server config the program writes onto the host audits as the stack expects. One test file per stack
// calls this, so vitest still runs the stacks in parallel.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../audit/cli.js';
import { readAuditConfig } from '../../../audit/sources/configFile.js';
import { exportOf, type SweepBase } from '../../audit/helpers/sweep.js';
import { itCatchesEveryVariant, itPassesClean } from '../../audit/helpers/sweepCases.js';
import { runProgram, stackConfig } from './harness.js';
import { cloudConfig, userDataOf } from './checks.js';

export interface SweepSuite {
  /** e.g. `example-ca`: the stack is `Pulumi.<stack>.yaml`. */
  stack: string;
  title: string;
  country: string;
  home: string;
  foreign: string;
  parent?: string;
  /** The policy pack's config; from the stack's outputs where the stack sets more than the country. */
  packConfig: (outputs: Record<string, unknown>) => SweepBase['packConfig'];
  /** The media instance whose written config is audited (default: the single host's). */
  mediaInstance?: string;
  /** What the audit of the host's written config (with and without the inline credential) must show. */
  hostConfigAudit: (code: number, out: string) => void;
}

/** The audit's report lines at medium severity or above. */
export function seriousLines(out: string): string[] {
  return out.split('\n').filter((l) => /^ {2}(CRITICAL|HIGH|MEDIUM) /.test(l));
}

export function sweepSuite(s: SweepSuite): void {
  const stackFile = `Pulumi.${s.stack}.yaml`;
  let base: SweepBase;

  beforeAll(async () => {
    const { resources, outputs } = await runProgram(stackConfig(stackFile), 'lectern', s.stack);
    base = { name: s.stack, graph: resources, outputs, country: s.country, packConfig: s.packConfig(outputs), config: await readAuditConfig(stackFile), home: s.home, foreign: s.foreign, ...(s.parent ? { parent: s.parent } : {}) };
  }, 60_000);

  describe(s.title, () => {
    itPassesClean(() => base);

    it('the server config the program writes onto the host audits clean with the stack, before and after the credential is added', async () => {
      const doc = cloudConfig(userDataOf(base.graph, s.mediaInstance ?? 'lectern-media-instance'));
      const written = doc.write_files.find((f) => f.path === '/etc/lectern/config.base.json')!.content;
      const dir = mkdtempSync(join(tmpdir(), 'lectern-host-config-'));
      // The host reads the TURN secret from a file its boot script writes; an operator may also put it inline.
      const withCredential = JSON.parse(written) as { ice: { turn: { secret?: string; secretFile?: string } } };
      delete withCredential.ice.turn.secretFile;
      withCredential.ice.turn.secret = 'c1f0e7a29b54d83e6f2a0b9c7d15e4f8a3b6c2d9e0f1a7b4c8d5e2f9a6b3c0d7'; // openssl rand -hex 32
      writeFileSync(join(dir, 'export.json'), JSON.stringify(exportOf(base, base.graph)));
      for (const [name, text] of [['config.base.json', written], ['config.json', JSON.stringify(withCredential)]] as const) {
        writeFileSync(join(dir, name), text);
        let out = '';
        const args = ['audit', '--config', join(dir, name), '--stack-export', join(dir, 'export.json'), '--state-url', `s3://lectern-state?region=${base.home}`];
        const code = await main(args, (t) => (out += t), () => {});
        // Nothing about secrets at all, whatever else the stack expects.
        expect(out).not.toMatch(/secret-in-config|default-secret|weak-secret|plaintext-secret|secret-not-encrypted/);
        s.hostConfigAudit(code, out);
      }
    });

    itCatchesEveryVariant(() => base);
  });
}
