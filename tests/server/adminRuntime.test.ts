// GET /admin/runtime on a real Lectern: admin-only, matches the schema the audit validates, carries
// effective values and no secrets; and `lectern audit --url` reads it end to end.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { AdminRuntimeSchema, type AdminRuntime } from '../../audit/sources/adminRuntime.js';
import { main as auditCli } from '../../audit/cli.js';
import type { Finding } from '../../audit/model/types.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';

const ADMIN_TOKEN = 'admin-token-for-tests-7d1c4e';
const TURN_CREDENTIAL = 'turn-credential-that-must-never-leave-9b2f';
const sha256hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const admin = { adminTokens: [sha256hex(ADMIN_TOKEN)] };

/** Run the real CLI against a live server; JSON report parsed. */
async function auditLive(url: string, token = ADMIN_TOKEN): Promise<{ code: number; findings: Finding[]; err: string }> {
  let out = '';
  let err = '';
  const code = await auditCli(['audit', '--url', url, '--admin-token', token, '--format', 'json'], (t) => (out += t), (t) => (err += t));
  const findings = out ? (JSON.parse(out) as { findings: Finding[] }).findings : [];
  return { code, findings, err };
}

const summary = (findings: Finding[]): string[] => findings.map((f) => `${f.severity} ${f.rule}: ${f.title}`);

describe('GET /admin/runtime', () => {
  let lectern: TestLectern;
  beforeAll(async () => {
    lectern = await startLectern({
      auth: admin,
      ice: { servers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'lectern', credential: TURN_CREDENTIAL }] },
    });
  });
  afterAll(async () => lectern?.close());

  it('answers 401 without a token and with a wrong one, and says nothing else', async () => {
    const none = await lectern.app.inject({ method: 'GET', url: '/admin/runtime' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const wrong = await lectern.app.inject({ method: 'GET', url: '/admin/runtime', headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.statusCode).toBe(401);
    const basic = await lectern.app.inject({ method: 'GET', url: '/admin/runtime', headers: { authorization: `Basic ${ADMIN_TOKEN}` } });
    expect(basic.statusCode).toBe(401);
    for (const refused of [none, wrong, basic]) {
      expect(Object.keys(refused.json() as object)).toEqual(['error']);
      expect(refused.body).not.toContain('127.0.0.1');
    }
  });

  it('is closed when no admin token is configured', async () => {
    const closed = await startLectern();
    try {
      const response = await closed.app.inject({ method: 'GET', url: '/admin/runtime', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(response.statusCode).toBe(401);
    } finally {
      await closed.close();
    }
  });

  it('answers the admin with the effective runtime, matching the audit schema', async () => {
    const response = await lectern.app.inject({ method: 'GET', url: '/admin/runtime', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body: unknown = response.json();
    expect([...Value.Errors(AdminRuntimeSchema, body)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
    const runtime = body as AdminRuntime;

    const port = Number(new URL(lectern.url).port);
    const mediaPort = lectern.sfu.pool.workers[0]!.port;
    expect(runtime.host).toEqual({ provider: 'local' });
    expect(runtime.http.listen).toEqual({ host: '127.0.0.1', port });
    expect(runtime.http.tls).toBe('none');
    expect(runtime.media).toEqual({ listenIp: '127.0.0.1', announcedAddresses: ['127.0.0.1'], workers: 1 });
    expect(runtime.listeners).toEqual(
      expect.arrayContaining([
        { protocol: 'tcp', address: '127.0.0.1', port, purpose: 'http' },
        { protocol: 'udp', address: '127.0.0.1', port: mediaPort, purpose: 'media' },
        expect.objectContaining({ protocol: 'tcp', address: '127.0.0.1', purpose: 'media' }),
      ]),
    );
    expect(runtime.listeners).toHaveLength(3);
    const page = await lectern.app.inject({ method: 'GET', url: '/r/physics-101' });
    expect(runtime.http.contentSecurityPolicy).toBe(page.headers['content-security-policy']);
    expect(runtime.http.contentSecurityPolicy).toContain("default-src 'none'");
    expect(runtime.ice).toEqual({ servers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'lectern', hasCredential: true }], relayOnly: false });
    expect(runtime.auditLogHead).toEqual(lectern.auditLog.head());
    expect(runtime.versions.node).toBe(process.versions.node);
    expect(runtime.versions.mediasoup).toMatch(/^3\.\d+\.\d+$/);
    expect(runtime.features).toMatchObject({ recording: true, chat: true, metrics: false });
    expect(runtime.storage.map((s) => `${s.kind}:${s.backend}`)).toEqual(['recordings:local-disk', 'audit-log:local-disk', 'chat:memory']);
    // Recordings: encrypted, with the configured retention, their key named, none kept yet.
    expect(runtime.storage[0]).toMatchObject({ target: lectern.config.recording.dir, encryptedAtRest: true, retentionDays: 30 });
    expect(runtime.recordings).toMatchObject({ consentPolicy: 'ask', defaultRetentionDays: 30, count: 0, items: [], kekId: expect.stringMatching(/^local:/) });
    expect(runtime.storage[1]!.target).toBe(lectern.config.audit.dir);
    // The test server logs nothing (level silent), so no addresses reach a log.
    expect(runtime.logs).toEqual({ ipAddresses: 'none', retentionDays: null });
    expect(runtime.updateSources).toEqual([]);
  });

  it('never sends a secret: no ICE credential, no admin token or its hash, no signing key', async () => {
    const response = await lectern.app.inject({ method: 'GET', url: '/admin/runtime', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.statusCode).toBe(200);
    const raw = response.body + JSON.stringify(response.headers);
    for (const secret of [TURN_CREDENTIAL, ADMIN_TOKEN, sha256hex(ADMIN_TOKEN), 'PRIVATE KEY']) expect(raw).not.toContain(secret);
    expect(raw).not.toMatch(/credential"\s*:/);
  });
});

describe('lectern audit --url against a live server', () => {
  let clean: TestLectern;
  let leaky: TestLectern;
  beforeAll(async () => {
    clean = await startLectern({ auth: admin });
    leaky = await startLectern({ auth: admin, ice: { servers: [{ urls: ['stun:stun.l.google.com:19302'] }] } });
  });
  afterAll(async () => {
    await clean?.close();
    await leaky?.close();
  });

  it('finds nothing at or above high for the default config', async () => {
    const { code, findings, err } = await auditLive(clean.url);
    console.log('default config, live audit findings:\n  ' + summary(findings).join('\n  '));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(findings.filter((f) => f.severity === 'high' || f.severity === 'critical')).toEqual([]);
    expect(findings.map((f) => f.rule)).not.toContain('ice-server-not-own-turn');
    expect(findings.map((f) => f.rule)).not.toContain('csp-missing');
  });

  it('reports the public STUN server a leaky config hands browsers', async () => {
    const { code, findings } = await auditLive(leaky.url);
    console.log('public STUN config, live audit findings:\n  ' + summary(findings).join('\n  '));
    expect(code).toBe(1);
    expect(findings).toContainEqual(
      expect.objectContaining({
        rule: 'ice-server-not-own-turn',
        severity: 'high',
        title: expect.stringContaining('stun.l.google.com'),
        where: `${leaky.url} ice.servers[0]`,
      }),
    );
  });

  it('refuses to audit with a wrong admin token (exit 2, HTTP 401 named)', async () => {
    const { code, err } = await auditLive(clean.url, 'wrong');
    expect(code).toBe(2);
    expect(err).toContain('HTTP 401');
  });
});
