// A Lectern cluster node as a real process: server/main.ts (the production start-up) with a config
// file, on its own 127.0.0.x address, Redis for coordination. Tests SIGKILL and SIGTERM it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './redisServer.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A running node process. */
export interface ClusterNodeProcess {
  nodeId: string;
  /** http://127.0.0.x:port */
  url: string;
  wsUrl: string;
  /** http://127.0.0.x:port of its metrics listener. */
  metricsUrl: string;
  process: ChildProcess;
  /** Everything it logged so far (pino JSON lines). */
  log(): string;
  /** Resolves with the exit code / signal once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface NodeOptions {
  nodeId: string;
  /** 127.0.0.x to listen on. */
  address: string;
  /** Its HTTP port (default: a free one); a node put in the place of a dead one takes the dead one's. */
  port?: number;
  redisPort: number;
  placement?: Record<string, unknown>;
  /** Extra `cluster` keys (heartbeatSeconds, ttlSeconds, drainSeconds...). */
  cluster?: Record<string, unknown>;
  /** Extra `media` keys (capacity...). */
  media?: Record<string, unknown>;
  /** Extra top-level sections (auth...). */
  config?: Record<string, unknown>;
}

/** The deployment every test node belongs to: Germany. */
export const DEPLOYMENT_DE = {
  country: 'DE',
  domain: 'lehre.example-universitaet.de',
  acmeEmail: 'rechenzentrum@example-universitaet.de',
  release: { version: '0.1.0', repository: 'https://git.example-universitaet.de/spiegel/lectern.git' },
};

/**
 * Start a node and wait until it has registered (or exited: then the promise resolves anyway and
 * `exited` tells; a refused node is expected to exit).
 */
export async function startNode(options: NodeOptions): Promise<ClusterNodeProcess> {
  const dir = mkdtempSync(join(tmpdir(), `lectern-${options.nodeId}-`));
  const port = options.port ?? (await freePort(options.address));
  const metricsPort = await freePort(options.address);
  const rtcPort = await freePort(options.address);
  const config = {
    http: { host: options.address, port },
    media: { workers: 1, listenIp: options.address, rtcPort, ...options.media },
    log: { level: 'info' },
    audit: { dir: join(dir, 'audit') },
    deployment: DEPLOYMENT_DE,
    cluster: {
      nodeId: options.nodeId,
      redis: { host: '127.0.0.1', port: options.redisPort },
      heartbeatSeconds: 0.5,
      ttlSeconds: 2,
      drainSeconds: 3,
      placement: options.placement ?? { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1a' },
      ...options.cluster,
    },
    metrics: { host: options.address, port: metricsPort },
    ...options.config,
  };
  const configFile = join(dir, 'lectern.json');
  writeFileSync(configFile, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, LECTERN_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const deadline = Date.now() + 30_000;
  while (!output.includes('registered in the cluster') && child.exitCode === null && child.signalCode === null) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`node ${options.nodeId} did not register:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://${options.address}:${port}`;
  return {
    nodeId: options.nodeId,
    url,
    wsUrl: `ws://${options.address}:${port}/ws`,
    metricsUrl: `http://${options.address}:${metricsPort}`,
    process: child,
    log: () => output,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
