// A real coturn (Debian's /usr/bin/turnserver) for a test: on 127.0.0.1 only, its own config file,
// TLS with a certificate made for the test, authentication by coturn's TURN REST API secret
// (`use-auth-secret`), as a deployment runs it. Ports are picked free (UDP and TCP) before start;
// the helper waits until coturn answers a STUN Binding request on UDP and accepts TCP and TLS.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer, connect as tcpConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';

/** A running coturn. */
export interface TestCoturn {
  /** coturn's static-auth-secret. */
  secret: string;
  realm: string;
  /** UDP and TCP listening port. */
  port: number;
  /** TLS listening port. */
  tlsPort: number;
  /** turn:127.0.0.1:<port>?transport=udp */
  udpUrl: string;
  /** turn:127.0.0.1:<port>?transport=tcp */
  tcpUrl: string;
  /** turns:127.0.0.1:<tlsPort>?transport=tcp */
  tlsUrl: string;
  /** Every line coturn logged so far. */
  log(): string[];
  close(): Promise<void>;
}

/** Start coturn; resolves once UDP, TCP and TLS all listen. */
export async function startCoturn(): Promise<TestCoturn> {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-coturn-'));
  const secret = randomBytes(32).toString('hex');
  const realm = 'lectern.test';
  // A certificate for the address browsers dial (turns:127.0.0.1), made for this run only.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const port = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === port) tlsPort = await freePort();
  const relayMin = 50_000 + Math.floor(Math.random() * 100) * 100;
  const config = [
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${port}`,
    `tls-listening-port=${tlsPort}`,
    // No alternate ports (port+1): only the two picked free.
    `alt-listening-port=0`,
    `alt-tls-listening-port=0`,
    `min-port=${relayMin}`,
    `max-port=${relayMin + 99}`,
    `realm=${realm}`,
    'fingerprint',
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    `cert=${join(dir, 'cert.pem')}`,
    `pkey=${join(dir, 'key.pem')}`,
    'no-dtls',
    'no-cli',
    // The SFU is on loopback too; a deployment never allows this (it allows only the SFU's address).
    'allow-loopback-peers',
    'no-multicast-peers',
    'log-file=stdout',
    'simple-log',
    'verbose',
    `pidfile=${join(dir, 'turnserver.pid')}`,
    `userdb=${join(dir, 'turndb')}`,
    '',
  ].join('\n');
  const configFile = join(dir, 'turnserver.conf');
  writeFileSync(configFile, config);

  const lines: string[] = [];
  const child = spawn(TURNSERVER, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let buffered = '';
  const collect = (chunk: Buffer): void => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitListening(port, tlsPort),
      exited.then((code) => Promise.reject(new Error(`turnserver exited (${code}) before listening:\n${lines.slice(-20).join('\n')}`))),
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    secret,
    realm,
    port,
    tlsPort,
    udpUrl: `turn:127.0.0.1:${port}?transport=udp`,
    tcpUrl: `turn:127.0.0.1:${port}?transport=tcp`,
    tlsUrl: `turns:127.0.0.1:${tlsPort}?transport=tcp`,
    log: () => [...lines, ...(buffered ? [buffered] : [])],
    close,
  };
}

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    const udp = createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (udpFree) return port;
  }
}

async function waitListening(port: number, tlsPort: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if ((await stunBinding(port)) && (await tcpOpen(port)) && (await tcpOpen(tlsPort))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`coturn did not listen on 127.0.0.1:${port} (UDP, TCP) and :${tlsPort} (TLS) within 15 s`);
}

/** True if a STUN Binding request to 127.0.0.1:port gets a Binding success response. */
async function stunBinding(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  const transaction = randomBytes(12);
  // RFC 5389 header: type 0x0001 (Binding request), length 0, magic cookie, transaction id.
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), transaction]);
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.on('message', (message) => {
        if (message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(transaction)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      socket.once('error', () => resolve(false));
      socket.send(request, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

async function tcpOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
