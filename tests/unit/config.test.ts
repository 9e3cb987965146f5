import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, ConfigError } from '../../config/index.js';

function tempFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, content);
  return file;
}

describe('config', () => {
  it('is a complete, local-only Lectern with no configuration at all', () => {
    const config = loadConfig({ env: {} });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, trustProxy: false, sourceMaps: false });
    expect(config.media.listenIp).toBe('127.0.0.1');
    expect(config.ice.servers).toEqual([]); // no public STUN by default
    expect(config.deployment).toBeUndefined();
  });

  it('layers defaults, then the file, then the environment', () => {
    const file = tempFile(JSON.stringify({ http: { port: 4000, host: '0.0.0.0' }, media: { rtcPort: 45000 } }));
    const config = loadConfig({ env: { LECTERN_CONFIG: file, LECTERN_HTTP_PORT: '5000', LECTERN_MEDIA_ANNOUNCED_ADDRESS: '203.0.113.7' } });
    expect(config.http.port).toBe(5000); // env beats file
    expect(config.http.host).toBe('0.0.0.0'); // file beats default
    expect(config.media.rtcPort).toBe(45000);
    expect(config.media.announcedAddress).toBe('203.0.113.7');
    expect(config.media.workers).toBe(0); // default kept
  });

  it('reads arrays from the environment as JSON', () => {
    const config = loadConfig({ env: { LECTERN_ICE_SERVERS: '[{"urls":["turns:turn.example.edu:443"],"username":"u","credential":"c"}]' } });
    expect(config.ice.servers[0]?.urls).toEqual(['turns:turn.example.edu:443']);
  });

  it('rejects unknown keys at every level, naming each', () => {
    const error = (() => {
      try {
        parseConfig({ htp: {}, http: { prot: 1 }, media: { rtcPort: 45000, extra: true } });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^htp: unknown key/),
        expect.stringMatching(/^http\.prot: unknown key/),
        expect.stringMatching(/^media\.extra: unknown key/),
      ]),
    );
  });

  it('rejects a misspelt LECTERN_ variable instead of ignoring it', () => {
    expect(() => loadConfig({ env: { LECTERN_HTTP_PROT: '80' } })).toThrow(/LECTERN_HTTP_PROT: unknown environment variable/);
  });

  it('rejects wrong types and out-of-range values with the key named', () => {
    expect(() => loadConfig({ env: { LECTERN_HTTP_PORT: 'eighty' } })).toThrow(/http\.port/);
    expect(() => parseConfig({ media: { rtcPort: 80 } })).toThrow(/media\.rtcPort/);
    expect(() => parseConfig({ ice: { servers: [{ urls: ['https://stun.example.com'] }] } })).toThrow(/ice\.servers\.0\.urls\.0/);
  });

  it('fails loudly on an unreadable or malformed file rather than falling back to defaults', () => {
    expect(() => loadConfig({ file: '/nonexistent/lectern.json', env: {} })).toThrow(/cannot read the file/);
    expect(() => loadConfig({ file: tempFile('{ not json'), env: {} })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ file: tempFile('[1,2]'), env: {} })).toThrow(/JSON object/);
  });

  it('never mutates its input', () => {
    const input = { http: { port: 1234 } };
    parseConfig(input);
    expect(input).toEqual({ http: { port: 1234 } });
  });
});
