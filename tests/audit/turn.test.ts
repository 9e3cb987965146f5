// The audit's TURN credential check: the lifetime of per-participant credentials, from the config
// and from a real server's /admin/runtime, and any static TURN entry as a finding (default deny).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../audit/audit.js';
import { checkTurnCredentials } from '../../audit/checks/turn.js';
import { parseAuditConfig } from '../../audit/sources/configFile.js';
import { createHash } from 'node:crypto';
import { readLiveServer } from '../../audit/sources/liveServer.js';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { completeFixture, defectFixture } from './helpers/fixtures.js';

const SECRET = 'Hq3vN8xR2mT6yB1kW9sD4fJ7pL0cZ5aE';
const turnConfig = (extra: Record<string, unknown>) =>
  parseAuditConfig({ ice: { turn: { urls: ['turns:turn.example.edu:5349?transport=tcp'], secret: SECRET, ...extra } } }, 'lectern.json');

describe('TURN credential lifetime', () => {
  it('is reported for the clean deployment, from config and from the live server, at info', () => {
    const found = audit(completeFixture('clean')).findings.filter((f) => f.rule === 'turn-credential-lifetime');
    expect(found.map((f) => [f.severity, f.title, f.where])).toEqual([
      ['info', "Each participant's TURN credential lasts 2 h", 'clean/lectern.json ice.turn.credentialTtlSeconds'],
      ['info', "Each participant's TURN credential lasts 2 h", 'clean/runtime.json ice.turn.credentialTtlSeconds'],
    ]);
  });

  it('grows more serious past a lecture block and past a teaching day', () => {
    const severity = (seconds: number) => checkTurnCredentials({ config: turnConfig({ credentialTtlSeconds: seconds }) })[0]!.severity;
    expect(severity(4 * 3600)).toBe('info');
    expect(severity(4 * 3600 + 60)).toBe('low');
    expect(severity(24 * 3600)).toBe('medium');
    expect(checkTurnCredentials({ config: turnConfig({ credentialTtlSeconds: 5400 }) })[0]!.title).toBe("Each participant's TURN credential lasts 1 h 30 min");
  });

  it('reads a stack config through deployment.turn (the deployment writes ice.turn itself)', () => {
    const stack = (turn: Record<string, unknown>) =>
      parseAuditConfig(
        {
          'lectern:deployment': {
            objectValue: { country: 'SE', domain: 'class.example-uni.se', acmeEmail: 'ops@example-uni.se', release: { version: '0.1.0', repository: 'https://git.example-uni.se/lectern.git' }, turn },
            secret: false,
          },
          'lectern:turnCredential': { secret: true },
        },
        'stack.json',
      );
    expect(checkTurnCredentials({ config: stack({}) })[0]).toMatchObject({ title: "Each participant's TURN credential lasts 2 h", evidence: expect.stringContaining('server default') });
    expect(checkTurnCredentials({ config: stack({ credentialTtlSeconds: 50_400 }) })[0]).toMatchObject({ severity: 'medium', where: 'stack.json deployment.turn.credentialTtlSeconds' });
  });
});

describe('static TURN entries', () => {
  it('reports a shared TURN password and a credential-less TURN server as high, but not a STUN entry', () => {
    const config = parseAuditConfig(
      { ice: { servers: [{ urls: ['stun:class.example-uni.se:3478'] }, { urls: ['turn:class.example-uni.se:3478'], username: 'lectern', credential: SECRET }, { urls: ['turns:class.example-uni.se:5349'] }] } },
      'lectern.json',
    );
    const found = checkTurnCredentials({ config });
    expect(found.map((f) => [f.rule, f.severity, f.where])).toEqual([
      ['turn-static-credential', 'high', 'lectern.json ice.servers[1]'],
      ['turn-static-credential', 'high', 'lectern.json ice.servers[2]'],
    ]);
    expect(found[0]!.title).toContain('long-lived TURN password');
    expect(found[1]!.title).toContain('without a credential');
    expect(JSON.stringify(found)).not.toContain(SECRET);
  });

  it('the static-turn-password fixture fails the audit at the default threshold', () => {
    const result = audit(defectFixture('static-turn-password'));
    expect(result.findings.filter((f) => f.rule === 'turn-static-credential').map((f) => f.severity)).toEqual(['high']);
  });
});

describe('against a live server', () => {
  let lectern: TestLectern;
  let staticLectern: TestLectern;
  const TOKEN = 'aud1t-t0ken-for-the-turn-test-9c2e4b7a';
  const admin = { adminTokens: [createHash('sha256').update(TOKEN, 'utf8').digest('hex')] };
  const runtimeOf = async (l: TestLectern) => {
    const live = await readLiveServer(l.url, TOKEN);
    return { source: l.url, runtime: live.runtime, pageHeaders: live.pageHeaders };
  };
  beforeAll(async () => {
    lectern = await startLectern({ auth: admin, ice: { turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: SECRET, credentialTtlSeconds: 3000 } } });
    staticLectern = await startLectern({ auth: admin, ice: { servers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'lectern', credential: SECRET }] } });
  });
  afterAll(async () => {
    await lectern?.close();
    await staticLectern?.close();
  });

  it('reports the lifetime the running server mints with, and a static password it hands out', async () => {
    const live = await runtimeOf(lectern);
    expect(live.runtime.ice.turn).toEqual({ urls: ['turn:127.0.0.1:3478?transport=udp'], credentialTtlSeconds: 3000 });
    expect(JSON.stringify(live.runtime)).not.toContain(SECRET);
    expect(checkTurnCredentials({ runtime: live }).map((f) => [f.rule, f.title])).toEqual([['turn-credential-lifetime', "Each participant's TURN credential lasts 50 min"]]);
    const staticLive = await runtimeOf(staticLectern);
    expect(checkTurnCredentials({ runtime: staticLive }).map((f) => [f.rule, f.severity])).toEqual([['turn-static-credential', 'high']]);
  });
});
