// The cluster section at start-up, and the embedded default without one. No cluster section: one
// process, no Redis, no metrics listener, health as before, every join here. With one: what the
// schema cannot say is refused before anything connects (url or host, TTL above the heartbeat, a
// placement proven in the deployment's country), and a Redis password is read from its file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/index.js';
import { createCoordinator } from '../../server/cluster/createCoordinator.js';
import { RedisCoordinator } from '../../server/cluster/RedisCoordinator.js';
import { LocalCoordinator } from '../../server/cluster/LocalCoordinator.js';
import { startLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { startRedis } from '../helpers/redisServer.js';
import { DEPLOYMENT_DE } from '../helpers/clusterNode.js';
import { edgeSettings } from '../../server/cluster/edgeSettings.js';

const cluster = (extra: Record<string, unknown> = {}) => ({
  nodeId: 'node-a',
  placement: { country: 'DE', region: 'eu-central-1' },
  redis: { host: '127.0.0.1', port: 6390 },
  ...extra,
});
const problems = (config: Record<string, unknown>): string[] => {
  try {
    createCoordinator(parseConfig(config));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('the embedded default (no cluster section)', () => {
  it('is one process with no Redis: health has no cluster state and joins open rooms here', async () => {
    const lectern = await startLectern();
    try {
      expect(lectern.config.cluster).toBeUndefined();
      expect(lectern.config.metrics).toBeUndefined();
      expect(createCoordinator(lectern.config)).toBeInstanceOf(LocalCoordinator);
      const health = await (await fetch(`${lectern.url}/healthz`)).json();
      expect(health).toEqual({ status: 'ok', workers: 1, rooms: 0, peers: 0 });
      const client = await SignallingClient.connect(lectern.wsUrl);
      expect((await client.send('join', { room: 'local-class', displayName: 'Ada' })).ok).toBe(true);
      client.close();
      expect((await (await fetch(`${lectern.url}/metrics`)).status)).toBe(404);
    } finally {
      await lectern.close();
    }
  });
});

describe('the cluster section', () => {
  it('is refused with every problem named, before anything connects', () => {
    expect(problems({ deployment: DEPLOYMENT_DE, cluster: cluster({ redis: { url: 'redis://127.0.0.1:6390', host: '127.0.0.1' } }) })).toContain('cluster.redis: give either url or host (+ port)');
    expect(problems({ deployment: DEPLOYMENT_DE, cluster: cluster({ heartbeatSeconds: 5, ttlSeconds: 5 }) })[0]).toMatch(/^cluster.ttlSeconds/);
    expect(problems({ deployment: DEPLOYMENT_DE, cluster: cluster({ placement: { country: 'SE', region: 'eu-north-1' } }) })[0]).toMatch(/^cluster.placement: the node is placed in SE/);
    // Without a deployment country nothing can be proven in-country: refused, not assumed.
    expect(problems({ cluster: cluster() })[0]).toMatch(/^cluster.placement: the deployment has no country/);
    expect(problems({ deployment: DEPLOYMENT_DE, cluster: cluster({ redis: { url: 'redis://user:pw@127.0.0.1:6390' } }) })).toContain('cluster.redis.url: carries a password; use cluster.redis.passwordFile');
    expect(() => parseConfig({ cluster: cluster({ redis: { host: 'x', colour: 'red' } }) })).toThrow(/cluster\.redis\.colour: unknown key/);
  });

  it('reads the Redis password from its file and connects with it', async () => {
    const password = 'a-long-random-redis-password-for-the-test';
    const redis = await startRedis({ password });
    const dir = mkdtempSync(join(tmpdir(), 'lectern-redis-pw-'));
    writeFileSync(join(dir, 'pw'), `${password}\n`);
    try {
      const good = createCoordinator(parseConfig({ deployment: DEPLOYMENT_DE, cluster: cluster({ redis: { host: redis.host, port: redis.port, passwordFile: join(dir, 'pw') } }) }));
      expect(good).toBeInstanceOf(RedisCoordinator);
      await good.start();
      expect(await good.nodes()).toEqual([]);
      expect(good.state).toBe('ok');
      await good.close();
      const without = createCoordinator(parseConfig({ deployment: DEPLOYMENT_DE, cluster: cluster({ redis: { host: redis.host, port: redis.port } }) }));
      // The server closes on a client that does not authenticate: start-up fails.
      await expect(without.start()).rejects.toThrow();
      await expect(without.nodes()).rejects.toThrow();
      expect(without.state).toBe('degraded');
      await without.close();
    } finally {
      await redis.stop();
    }
  });
});

describe('the cluster.internal section (rooms bigger than a node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-edge-secret-'));
  const edgeProblems = (internal: Record<string, unknown>, media: Record<string, unknown> = {}): string[] => {
    try {
      edgeSettings(parseConfig({ deployment: DEPLOYMENT_DE, media, cluster: cluster({ internal: { host: '10.0.1.21', ...internal } }) }));
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('binds the private address, and needs a readable cluster secret of at least 32 characters', () => {
    writeFileSync(join(dir, 'short'), 'too-short\n');
    writeFileSync(join(dir, 'good'), `${'s'.repeat(40)}\n`);
    expect(edgeProblems({})[0]).toMatch(/^cluster.internal.secretFile: required/);
    expect(edgeProblems({ secretFile: join(dir, 'short') })[0]).toMatch(/^cluster.internal.secretFile: the secret .* at least 32/);
    expect(edgeProblems({ secretFile: join(dir, 'missing') })[0]).toMatch(/^cluster.internal.secretFile: cannot read/);
    expect(edgeProblems({ secretFile: join(dir, 'good') }, { pipe: { portMin: 41000, portMax: 40000 } })[0]).toMatch(/^media.pipe.portMax/);
    expect(() => parseConfig({ cluster: cluster({ internal: { host: '10.0.1.21', secret: 'inline' } }) })).toThrow(/cluster\.internal\.secret: unknown key/);
    const settings = edgeSettings(parseConfig({ deployment: DEPLOYMENT_DE, cluster: cluster({ internal: { host: '10.0.1.21', secretFile: join(dir, 'good') } }) }));
    expect(settings).toEqual({ listen: { host: '10.0.1.21', port: 7443 }, pipeListen: { ip: '10.0.1.21', portMin: 44000, portMax: 44099 }, secret: 's'.repeat(40), capacitySubscribers: 500 });
  });
});
