// A real redis-server for a test: its own config file in a temporary directory, a free port on
// 127.0.0.1, no persistence (no RDB snapshots, no AOF), stopped (or SIGKILLed) by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A running redis-server. */
export interface TestRedis {
  host: string;
  port: number;
  process: ChildProcess;
  /** A client of its own (for the test to look at keys). */
  client(): Redis;
  /** SIGKILL it (a crash: nothing flushed, no goodbye) and wait until it is gone. */
  kill(): Promise<void>;
  /** Stop it if still running. */
  stop(): Promise<void>;
}

/** A TCP port nothing listens on now (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Start redis-server and wait until it accepts connections. */
export async function startRedis(options: { password?: string } = {}): Promise<TestRedis> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = mkdtempSync(join(tmpdir(), 'lectern-redis-'));
  const configFile = join(dir, 'redis.conf');
  writeFileSync(
    configFile,
    [`bind ${host}`, `port ${port}`, 'protected-mode yes', 'save ""', 'appendonly no', `dir ${dir}`, 'daemonize no', 'loglevel warning', 'databases 1', ...(options.password ? [`requirepass ${options.password}`] : []), ''].join('\n'),
  );
  const child = spawn('redis-server', [configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
    const probe = new Redis({ host, port, password: options.password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    host,
    port,
    process: child,
    client: () => new Redis({ host, port, password: options.password }),
    async kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
