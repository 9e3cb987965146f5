import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../audit/cli.js';
import { AUDIT_FILES, AuditLog } from '../../audit/log/index.js';
import { FIXTURES } from './helpers/fixtures.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, (t) => (out += t), (t) => (err += t));
  return { code, out, err };
}

const full = (name: string): string[] => [
  '--config', join(FIXTURES, name, 'lectern.json'),
  '--stack-export', join(FIXTURES, name, 'stack.json'),
  '--runtime-file', join(FIXTURES, name, 'runtime.json'),
  '--client-dir', join(FIXTURES, name, 'client'),
  '--state-url', 's3://lectern-state-se?region=eu-north-1',
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lectern-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lectern audit', () => {
  it('passes the clean deployment at the default threshold (high) and fails it at medium', async () => {
    const clean = await run('audit', ...full('clean'));
    expect(clean.code).toBe(0);
    // The two lows added by issue 13: egress to 0.0.0.0/0 on 443 and 80 for named destinations, reported.
    expect(clean.out).toContain('Summary: 0 critical, 0 high, 1 medium, 3 low');
    expect((await run('audit', ...full('clean'), '--fail-on', 'medium')).code).toBe(1);
  });

  it('fails the leaky deployment, naming each leak', async () => {
    const leaky = await run('audit', ...full('leaky'));
    expect(leaky.code).toBe(1);
    expect(leaky.out).toMatch(/HIGH +ice-server-not-own-turn: Browsers are told to contact stun\.l\.google\.com/);
    expect(leaky.out).toMatch(/HIGH +flow-outside-country: Recordings \(S3 lectern-recordings-se-7f3a\) is in DE, not SE/);
    expect(leaky.out).toMatch(/HIGH +third-party-host: Client loads cdn\.jsdelivr\.net/);
    // The static TURN password is reported from the config and from the live server; the bucket
    // overriding its provider's region is also the resource abroad, a region override and the AWS API
    // abroad; the leaky bundle names github.com in a comment, and its security group allows all egress
    // with no destination list.
    expect(leaky.out).toMatch(/HIGH +turn-static-credential: Every browser is handed the same long-lived TURN password/);
    expect(leaky.out).toMatch(/HIGH +third-party-host: Client names github\.com/);
    expect(leaky.out).toMatch(/HIGH +egress-wider-than-list: Egress of all traffic to 0\.0\.0\.0\/0/);
    expect(leaky.out).toMatch(/HIGH +egress-unlisted/);
    expect(leaky.err).toContain('12 finding(s) at or above high');
  });

  it('writes JSON and HTML reports', async () => {
    const json = join(dir, 'r.json');
    expect((await run('audit', ...full('leaky'), '--format', 'json', '--out', json)).code).toBe(1);
    const parsed = JSON.parse(await readFile(json, 'utf8')) as { findings: Array<{ rule: string }>; model: { country: string } };
    expect(parsed.model.country).toBe('SE');
    expect(parsed.findings.map((f) => f.rule)).toContain('ice-server-not-own-turn');
    const html = join(dir, 'r.html');
    await run('audit', '--config', join(FIXTURES, 'clean', 'lectern.json'), '--format', 'html', '--out', html);
    expect(await readFile(html, 'utf8')).toContain('<svg class="diagram"');
  });

  it('audits a local loopback Lectern from its config alone', async () => {
    const local = join(dir, 'local.json');
    await writeFile(local, '{}');
    const result = await run('audit', '--config', local);
    expect(result.code).toBe(0);
    expect(result.out).toContain('this machine (loopback only)');
  });

  it.skipIf(!existsSync('Pulumi.example-dk.yaml'))('audits the Danish example stack: Local Zone caveat reported, nothing above medium', async () => {
    const result = await run('audit', '--config', 'Pulumi.example-dk.yaml');
    expect(result.code).toBe(0);
    expect(result.out).toContain('local-zone-parent-region: Local Zone eu-north-1-cph-1a: control plane and keys are in eu-north-1 (SE)');
    expect(result.out).toMatch(/✓ DK +Recordings \(encrypted EBS volume, planned\)/);
  });

  it('reports an invalid config as a finding, and bad usage with exit 2', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"http":{"prot":1}}');
    const result = await run('audit', '--config', bad);
    expect(result.code).toBe(1);
    expect(result.out).toContain('config-invalid');
    expect((await run('audit')).code).toBe(2);
    expect((await run('audit', '--format', 'pdf', '--config', bad)).code).toBe(2);
    expect((await run('audit', '--fail-on', 'severe', '--config', bad)).code).toBe(2);
    expect((await run('nonsense')).code).toBe(2);
  });
});

describe('lectern audit verify-log', () => {
  it('says OK for an intact log and names the damage otherwise', async () => {
    const logDir = join(dir, 'audit');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(logDir);
    const log = await AuditLog.open(logDir);
    for (let i = 0; i < 3; i += 1) await log.append({ actor: { kind: 'user', id: `u${i}` }, action: 'peer.joined', subject: 'room' });
    const head = log.head();
    await log.close();
    const file = join(logDir, AUDIT_FILES.log);
    const pub = join(dir, 'kept-elsewhere.pub.pem');
    await writeFile(pub, await readFile(join(logDir, AUDIT_FILES.publicKey)));

    const ok = await run('audit', 'verify-log', file, '--public-key', pub, '--expected-head', `${head.seq}:${head.hash}`);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('OK: every entry is intact');

    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, [lines[0], lines[1], lines[3], lines[2], ''].join('\n'));
    const reordered = await run('audit', 'verify-log', file, '--public-key', pub);
    expect(reordered.code).toBe(1);
    expect(reordered.out).toContain('REORDERED: entry seq 2 is out of order');

    await writeFile(file, [lines[0], lines[1], lines[2]].join('\n') + '\n');
    const cut = await run('audit', 'verify-log', file, '--expected-head', `${head.seq}:${head.hash}`);
    expect(cut.code).toBe(1);
    expect(cut.out).toContain('REMOVED: entry seq 3 was removed from the end');
  });
});
