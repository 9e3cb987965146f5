// Redis on a media host (the Local Zone cluster), for real: the product's redis.conf and ACL line,
// the certificates the program derives, Debian's redis-server on a 127.0.0.x address standing in for
// the node's private one, and the server's own createCoordinator with the cluster section the program
// writes. What is proven here is the TLS trust, the password, the key and command limits and that
// nothing is persisted; where the files land on the host is checked under mocks (stack-dk-cluster).
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/index.js';
import { createCoordinator } from '../../server/cluster/createCoordinator.js';
import { redisTlsMaterial } from '../../infra/tls/redisTls.js';
import { redisAclLine, redisConf } from '../../infra/userdata/redis-host.js';
import { freePort } from '../helpers/redisServer.js';
import { startNode } from '../helpers/clusterNode.js';

const SECRET = 'cluster-secret-7d1f0a93be62c45e8817aa09f3c2d6b5';
const PASSWORD = 'redis-token-4b9e2d71c0a8f3356e12';
const ADDRESS = '127.0.0.5';
const DEPLOYMENT_DK = { country: 'DK', domain: 'video.example-university.dk', acmeEmail: 'it@example-university.dk', release: { version: '0.1.0', repository: 'https://git.example-university.dk/lectern.git' } };

let dir: string;
let port: number;
let redis: ChildProcess;
let output = '';
const material = redisTlsMaterial(SECRET, ADDRESS);

const nodeConfig = (redisSection: Record<string, unknown>) =>
  parseConfig({ deployment: DEPLOYMENT_DK, cluster: { nodeId: 'media-2', placement: { country: 'DK', zone: 'eu-north-1-cph-1a' }, redis: redisSection } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lectern-redis-host-'));
  port = await freePort(ADDRESS);
  const f = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const conf = redisConf({
    bind: ADDRESS,
    port,
    certFile: f('server.pem', material.serverCertPem),
    keyFile: f('server.key', material.serverKeyPem),
    caFile: f('ca.pem', material.caCertPem),
    dir,
    aclFile: f('acl.conf', redisAclLine(PASSWORD, 'lectern:')),
  });
  f('password', `${PASSWORD}\n`);
  redis = spawn('redis-server', [f('redis.conf', conf)], { stdio: ['ignore', 'pipe', 'pipe'] });
  redis.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  redis.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  for (const deadline = Date.now() + 10_000; !output.includes('Ready to accept connections'); ) {
    if (redis.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}, 20_000);

afterAll(async () => {
  if (redis && redis.exitCode === null) {
    const exited = new Promise((r) => redis.once('exit', r));
    redis.kill('SIGTERM');
    await exited;
  }
});

const client = (options: Record<string, unknown>): Redis => {
  const c = new Redis({ host: ADDRESS, port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, ...options });
  c.on('error', () => undefined);
  return c;
};

describe('Redis on a media host (Local Zone cluster)', () => {
  it('derives the same certificates from the same secret, a CA and a server certificate for the private address only', () => {
    expect(redisTlsMaterial(SECRET, ADDRESS)).toEqual(material);
    const other = redisTlsMaterial(`${SECRET}-rotated`, ADDRESS);
    expect(other.caCertPem).not.toBe(material.caCertPem);
    const ca = new X509Certificate(material.caCertPem);
    const server = new X509Certificate(material.serverCertPem);
    expect([ca.ca, server.ca]).toEqual([true, false]);
    expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toBe(`IP Address:${ADDRESS}`);
    expect(server.checkHost('video.example-university.dk')).toBeUndefined();
    expect(server.verify(new X509Certificate(other.caCertPem).publicKey)).toBe(false);
  });

  it("the server's coordinator connects over TLS with the CA file and the password file, takes a lock, claims a room's home and reads it back", async () => {
    const coordinator = createCoordinator(nodeConfig({ url: `rediss://${ADDRESS}:${port}`, tls: true, passwordFile: join(dir, 'password'), caFile: join(dir, 'ca.pem') }));
    await coordinator.start();
    try {
      expect(coordinator.state).toBe('ok');
      const lock = await coordinator.tryLock('room:physics-101', 5_000);
      expect(lock).toBeDefined();
      expect(await coordinator.claimHome('physics-101', 'media-2', undefined)).toBe(true);
      expect(await coordinator.homeOf('physics-101')).toBe('media-2');
      await lock!.release();
    } finally {
      await coordinator.close();
    }
  });

  it('two real Lectern node processes (server/main.ts) register through it over TLS, and each sees the other', async () => {
    const redisSection = { url: `rediss://${ADDRESS}:${port}`, tls: true, passwordFile: join(dir, 'password'), caFile: join(dir, 'ca.pem') };
    const started = await Promise.all(['127.0.0.6', '127.0.0.7'].map((address, i) => startNode({ nodeId: `media-${i + 1}`, address, redisPort: 0, placement: { country: 'DK', zone: 'eu-north-1-cph-1a' }, cluster: { redis: redisSection }, config: { deployment: DEPLOYMENT_DK } })));
    const watcher = createCoordinator(nodeConfig(redisSection));
    try {
      for (const node of started) expect(node.process.exitCode, node.log()).toBeNull();
      await watcher.start();
      expect((await watcher.nodes()).map((n) => n.id).sort()).toEqual(['media-1', 'media-2']);
    } finally {
      await watcher.close();
      await Promise.all(started.map((n) => n.kill('SIGTERM')));
    }
  }, 60_000);

  it('refuses a client that trusts only the system CAs, one that trusts another CA, and plain text', async () => {
    const handshake = (ca?: string) =>
      new Promise<string>((resolve) => {
        const socket = tlsConnect({ host: ADDRESS, port, ...(ca ? { ca } : {}) }, () => {
          resolve(`ok ${socket.getPeerCertificate().subjectaltname}`);
          socket.end();
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(String(error.code)));
      });
    expect(await handshake()).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)$/);
    expect(await handshake(redisTlsMaterial('someone-elses-secret-0123456789abcdef', ADDRESS).caCertPem)).toMatch(/^(CERT_SIGNATURE_FAILURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    // The same handshake with the deployment's CA succeeds, and names the private address.
    expect(await handshake(material.caCertPem)).toBe(`ok IP Address:${ADDRESS}`);
    // A plain-text client: the port speaks only TLS, so its PING never gets a Redis answer.
    const plain = await new Promise<string>((resolve) => {
      const socket = tcpConnect(port, ADDRESS, () => socket.write('PING\r\n'));
      let got = '';
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', () => resolve(got));
      setTimeout(() => socket.destroy(), 2_000);
    });
    expect(plain).not.toContain('PONG');
  });

  it('refuses a wrong or missing password, keys outside the deployment prefix and dangerous commands', async () => {
    const anonymous = client({ tls: { ca: material.caCertPem }, enableReadyCheck: false });
    await anonymous.connect();
    await expect(anonymous.get('lectern:x')).rejects.toThrow(/NOAUTH/);
    await expect(anonymous.auth('not-the-password-at-all')).rejects.toThrow(/WRONGPASS/);
    anonymous.disconnect();
    const good = client({ password: PASSWORD, tls: { ca: material.caCertPem } });
    await good.connect();
    try {
      expect(await good.set('lectern:probe', '1')).toBe('OK');
      await expect(good.set('other:probe', '1')).rejects.toThrow(/NOPERM/);
      await expect(good.flushall()).rejects.toThrow(/NOPERM/);
      await expect(good.config('SET', 'save', '60 1')).rejects.toThrow(/NOPERM/);
      await expect(good.keys('*')).rejects.toThrow(/NOPERM/);
      // Nothing is ever saved: no snapshot rule, no AOF, no file in its directory.
      expect(await good.bgsave().catch((e: Error) => e.message)).toMatch(/NOPERM/);
    } finally {
      good.disconnect();
    }
    expect(readdirSync(dir).filter((f) => /\.(rdb|aof)$|appendonly/.test(f))).toEqual([]);
  });

  it('the config refuses a CA file without TLS, a missing one, and one that is not a CA', () => {
    const problems = (section: Record<string, unknown>): string[] => {
      try {
        createCoordinator(nodeConfig(section));
        return [];
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
    };
    expect(problems({ url: `redis://${ADDRESS}:${port}`, passwordFile: join(dir, 'password'), caFile: join(dir, 'ca.pem') })).toEqual(['cluster.redis.caFile: needs TLS (cluster.redis.tls or a rediss:// URL)']);
    expect(problems({ url: `rediss://${ADDRESS}:${port}`, passwordFile: join(dir, 'password'), caFile: join(dir, 'absent.pem') })[0]).toMatch(/^cluster.redis.caFile: cannot read a PEM certificate from .*absent.pem/);
    expect(problems({ url: `rediss://${ADDRESS}:${port}`, passwordFile: join(dir, 'password'), caFile: join(dir, 'server.pem') })[0]).toMatch(/^cluster.redis.caFile: .*server.pem is not a CA certificate/);
    expect(() => nodeConfig({ url: `rediss://${ADDRESS}:${port}`, caFile: 7 })).toThrow(/cluster\.redis\.caFile/);
  });
});
