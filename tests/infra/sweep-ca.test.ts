// Generated residency sweep over the Canadian example stack (the program's own resources under mocks):
// every leaky variant fails `lectern audit` and is refused by the policy pack; the clean stack passes both.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../audit/cli.js';
import { readAuditConfig } from '../../audit/sources/configFile.js';
import { auditGraph, exportOf, packGraph, runSweep, type SweepBase } from '../audit/helpers/sweep.js';
import { runProgram, stackConfig } from './support/harness.js';
import { cloudConfig, userDataOf } from './support/checks.js';

let base: SweepBase;

beforeAll(async () => {
  const { resources, outputs } = await runProgram(stackConfig('Pulumi.example-ca.yaml'), 'lectern', 'example-ca');
  base = { name: 'example-ca', graph: resources, outputs, country: 'CA', packConfig: 'CA', config: await readAuditConfig('Pulumi.example-ca.yaml'), home: 'ca-west-1', foreign: 'us-east-1' };
}, 60_000);

describe('generated residency sweep: Canada (separate TURN host)', () => {
  it('the clean stack passes the audit (exit 0) and the pack (no violation)', async () => {
    expect(auditGraph(base, base.graph)).toEqual({ code: 0, failing: [] });
    expect(await packGraph(base, base.graph)).toEqual([]);
  });

  it('the server config the program writes onto the host audits clean with the stack, before and after the credential is added', async () => {
    const doc = cloudConfig(userDataOf(base.graph, 'lectern-media-instance'));
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
      expect(code, out).toBe(0);
      // Nothing about secrets at all, and nothing at medium or above but IAM's unavoidable metadata.
      expect(out).not.toMatch(/secret-in-config|default-secret|weak-secret|plaintext-secret|secret-not-encrypted/);
      // SSH from adminSshCidrs is a deployment key the host's config drops: medium here, never high.
      const serious = out.split('\n').filter((l) => /^ {2}(CRITICAL|HIGH|MEDIUM) /.test(l) && !/MEDIUM +ports-beyond-need: TCP 22 open to 192\.0\.2\.0\/24/.test(l));
      expect(serious, out).toEqual([expect.stringContaining('metadata-outside-country: IAM metadata')]);
    }
  });

  it('every variant fails the audit and is refused by the pack, naming the resource', async () => {
    const result = await runSweep(base);
    expect(result.missedByAudit).toEqual([]);
    expect(result.missedByPack).toEqual([]);
    expect(result.caughtByAudit).toBe(result.variants);
    expect(result.caughtByPack).toBe(result.variants);
  }, 120_000);
});
