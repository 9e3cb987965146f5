// The TURN credential format against coturn's TURN REST API scheme (coturn `use-auth-secret`):
// username `<unix expiry>:<peer>`, password base64(HMAC-SHA1(static-auth-secret, username)). The
// HMAC is checked against the openssl CLI, an implementation that is not ours.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/index.js';
import { TurnCredentials } from '../../server/ice/TurnCredentials.js';
import { IceServers } from '../../server/ice/IceServers.js';

const SECRET = 'k3Jd9sQ0vX7mB2nL5pR8tY1wZ4aC6eF0';

function opensslHmac(secret: string, message: string): string {
  return execFileSync('sh', ['-c', 'printf %s "$MESSAGE" | openssl dgst -sha1 -hmac "$SECRET" -binary | base64'], {
    env: { ...process.env, MESSAGE: message, SECRET: secret },
  })
    .toString()
    .trim();
}

describe('TurnCredentials (coturn REST API scheme)', () => {
  it('names the user <unix expiry>:<peer> with the expiry one lifetime after now', () => {
    const now = Date.UTC(2026, 11, 1, 10, 0, 0, 750);
    const minted = new TurnCredentials(SECRET, 7200).mint('peer-1', now);
    expect(minted.username).toBe(`${Math.floor(now / 1000) + 7200}:peer-1`);
    expect(minted.expiresAt).toBe((Math.floor(now / 1000) + 7200) * 1000);
  });

  it('signs the username with HMAC-SHA1 of the shared secret, base64 (as openssl computes it)', () => {
    const minted = new TurnCredentials(SECRET, 3600).mintExpiring('3f1c8a2e-0b7d-4e59-9a61-2c4d5e6f7a8b', 1796120942);
    expect(minted.username).toBe('1796120942:3f1c8a2e-0b7d-4e59-9a61-2c4d5e6f7a8b');
    expect(minted.credential).toBe(opensslHmac(SECRET, minted.username));
    // A different secret gives a different password (coturn would refuse it).
    expect(new TurnCredentials(`${SECRET}x`, 3600).mintExpiring('3f1c8a2e-0b7d-4e59-9a61-2c4d5e6f7a8b', 1796120942).credential).not.toBe(minted.credential);
  });

  it('refuses a peer id coturn would split differently, and nonsense lifetimes', () => {
    const credentials = new TurnCredentials(SECRET, 60);
    expect(() => credentials.mint('a:b')).toThrow(/contain ":"/);
    expect(() => credentials.mint('')).toThrow();
    expect(() => new TurnCredentials(SECRET, 0)).toThrow();
    expect(() => new TurnCredentials('', 60)).toThrow();
  });
});

describe('IceServers', () => {
  const turn = (extra: Record<string, unknown>) => parseConfig({ ice: { turn: { urls: ['turn:turn.example.edu:3478?transport=udp'], ...extra } } }).ice;

  it('hands each participant the static servers plus a TURN credential of its own', () => {
    const ice = IceServers.fromConfig(parseConfig({ ice: { relayOnly: true, servers: [{ urls: ['stun:turn.example.edu:3478'] }], turn: { urls: ['turns:turn.example.edu:5349?transport=tcp'], secret: SECRET, credentialTtlSeconds: 900 } } }).ice);
    const now = 1_800_000_000_000;
    const offer = ice.iceServersFor('peer-7', now);
    expect(offer.iceTransportPolicy).toBe('relay');
    expect(offer.iceServersTtlSeconds).toBe(900);
    expect(offer.iceServers).toEqual([
      { urls: ['stun:turn.example.edu:3478'] },
      { urls: ['turns:turn.example.edu:5349?transport=tcp'], username: '1800000900:peer-7', credential: opensslHmac(SECRET, '1800000900:peer-7') },
    ]);
    expect(ice.credentialTtlSeconds).toBe(900);
  });

  it('without a TURN relay hands out the static servers only, with no expiry', () => {
    const offer = IceServers.fromConfig(parseConfig({}).ice).iceServersFor('peer-1');
    expect(offer).toEqual({ iceServers: [], iceTransportPolicy: 'all' });
  });

  it('defaults the credential lifetime to two hours', () => {
    expect(turn({ secret: SECRET }).turn!.credentialTtlSeconds).toBe(7200);
  });

  it('reads the secret from secretFile once, at start-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-turn-'));
    const file = join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`);
    const offer = IceServers.fromConfig(turn({ secretFile: file })).iceServersFor('p', 0);
    expect(offer.iceServers[0]!.credential).toBe(opensslHmac(SECRET, `${7200}:p`));
  });

  it('refuses a config with no secret, two secrets, a short secret, or an unreadable secret file, naming the key', () => {
    expect(() => IceServers.fromConfig(turn({}))).toThrow(ConfigError);
    expect(() => IceServers.fromConfig(turn({}))).toThrow(/ice\.turn: needs secret or secretFile/);
    const dir = mkdtempSync(join(tmpdir(), 'lectern-turn-'));
    const short = join(dir, 'short');
    writeFileSync(short, 'north\n');
    expect(() => IceServers.fromConfig(turn({ secret: SECRET, secretFile: short }))).toThrow(/not both/);
    expect(() => IceServers.fromConfig(turn({ secretFile: short }))).toThrow(/ice\.turn\.secretFile: .* 5 characters/);
    expect(() => IceServers.fromConfig(turn({ secretFile: join(dir, 'missing') }))).toThrow(/ice\.turn\.secretFile: cannot read/);
    expect(() => turn({ secret: 'north' })).toThrow(/ice\.turn\.secret/);
    expect(() => turn({ secret: SECRET, password: 'x' })).toThrow(/ice\.turn\.password: unknown key/);
    expect(() => parseConfig({ ice: { turn: { urls: ['stun:x'], secret: SECRET } } })).toThrow(/ice\.turn\.urls/);
    expect(() => turn({ secret: SECRET, credentialTtlSeconds: 10 })).toThrow(/ice\.turn\.credentialTtlSeconds/);
  });
});
