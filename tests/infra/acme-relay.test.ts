// The shared site name's certificate across nodes, for real: the product's port-80 nginx site
// (infra/userdata/nginx.ts) rendered for two nodes, two real nginx processes on 127.0.0.2 and
// 127.0.0.3 (standing in for the nodes' addresses; non-privileged port, own prefix and temp dirs),
// then Pebble (Let's Encrypt's ACME test server) whose validation is sent to node B by
// pebble-challtestsrv's DNS, and certbot on node A with A's webroot. Run inside scripts/in-netns.sh.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_RELAY_HEADER, nginxHttp } from '../../infra/userdata/nginx.js';

const SHARED = 'video.example-university.dk';
const PORT = 18080;
const A = '127.0.0.2';
const B = '127.0.0.3';
const root = mkdtempSync(join(tmpdir(), 'lectern-acme-relay-'));
// nginx started as (namespace) root runs its workers as nobody: they must be able to read the webroots.
chmodSync(root, 0o755);
const children: ChildProcess[] = [];

interface Node {
  address: string;
  dir: string;
  webroot: string;
  accessLog: () => string[];
}

/** A node's nginx: the product's site, inside a minimal nginx.conf with its own paths (and a log that shows the relay header). */
function nodeAt(name: string, address: string, peer: string): Node {
  const dir = join(root, name);
  const webroot = join(dir, 'acme');
  for (const sub of ['tmp', 'logs', 'acme/.well-known/acme-challenge']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'site.conf'), nginxHttp({ names: [SHARED, `media-${name}.${SHARED}`], webroot, listen: `${address}:${PORT}`, peers: [`${peer}:${PORT}`] }));
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/logs/error.log info;`,
      'events { worker_connections 64; }',
      'http {',
      `  log_format relay '"$request" $status relayed=$http_${ACME_RELAY_HEADER.toLowerCase().replaceAll('-', '_')}';`,
      `  access_log ${dir}/logs/access.log relay;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp/${t};`),
      `  include ${dir}/site.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const log = join(dir, 'logs', 'access.log');
  writeFileSync(log, '');
  return { address, dir, webroot, accessLog: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

function start(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  (child as ChildProcess & { output: () => string }).output = () => output;
  children.push(child);
  return child;
}

async function waitForPort(host: string, port: number, what: string): Promise<void> {
  for (const deadline = Date.now() + 15_000; ; ) {
    const up = await new Promise<boolean>((resolve) => {
      const req = request({ host, port, path: '/', method: 'HEAD', timeout: 500 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function get(address: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: PORT, path, headers: { host: SHARED, ...headers }, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let a: Node;
let b: Node;

beforeAll(async () => {
  a = nodeAt('1', A, B);
  b = nodeAt('2', B, A);
  for (const node of [a, b]) {
    execFileSync('nginx', ['-t', '-q', '-p', node.dir, '-c', join(node.dir, 'nginx.conf'), '-e', join(node.dir, 'logs', 'error.log')]);
    start('nginx', ['-p', node.dir, '-c', join(node.dir, 'nginx.conf'), '-e', join(node.dir, 'logs', 'error.log')]);
  }
  await waitForPort(A, PORT, 'nginx A');
  await waitForPort(B, PORT, 'nginx B');
}, 30_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
});

const challenge = (token: string) => `/.well-known/acme-challenge/${token}`;

/**
 * What `node` logged after line `before`, once `count` lines are there (or after 5 s). nginx writes
 * its access log after the response has gone, so under load a line can come a moment after the
 * answer; when none is expected, it waits a moment for any that should not come.
 */
async function logged(node: Node, before: number, count: number): Promise<string[]> {
  const deadline = Date.now() + (count === 0 ? 300 : 5000);
  for (;;) {
    const lines = node.accessLog().slice(before);
    if ((count > 0 && lines.length >= count) || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ACME HTTP-01 for the shared site name across nodes (real nginx)', () => {
  it('a challenge only node A holds is answered by node B, relayed once to A', async () => {
    writeFileSync(join(a.webroot, challenge('only-on-a')), 'only-on-a.thumbprint');
    const beforeA = a.accessLog().length;
    const answer = await get(B, challenge('only-on-a'));
    expect(answer).toEqual({ status: 200, body: 'only-on-a.thumbprint' });
    // A saw it once, marked as relayed (from B: nobody else asked A).
    expect(await logged(a, beforeA, 1)).toEqual([`"GET ${challenge('only-on-a')} HTTP/1.0" 200 relayed=1`]);
    // Node A answers it from its own webroot without asking anyone.
    const beforeB = b.accessLog().length;
    expect(await get(A, challenge('only-on-a'))).toEqual({ status: 200, body: 'only-on-a.thumbprint' });
    expect(await logged(b, beforeB, 0)).toEqual([]);
  });

  it('a challenge nobody holds is a 404 after one relay, not a loop', async () => {
    const beforeA = a.accessLog().length;
    const beforeB = b.accessLog().length;
    const answer = await get(B, challenge('nowhere'));
    expect(answer.status).toBe(404);
    expect(await logged(a, beforeA, 1)).toEqual([`"GET ${challenge('nowhere')} HTTP/1.0" 404 relayed=1`]);
    // B's only entry is the original request: A did not relay the relayed request back.
    expect(await logged(b, beforeB, 1)).toEqual([`"GET ${challenge('nowhere')} HTTP/1.1" 404 relayed=-`]);
  });

  it('a request that already carries the relay header is answered from the local webroot only', async () => {
    const beforeA = a.accessLog().length;
    expect((await get(B, challenge('only-on-a'), { [ACME_RELAY_HEADER]: '1' })).status).toBe(404);
    expect(await logged(a, beforeA, 0)).toEqual([]);
  });

  it("anything else on port 80 is still a redirect to HTTPS, never relayed", async () => {
    const beforeA = a.accessLog().length;
    const answer = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = request({ host: B, port: PORT, path: '/room/physics', headers: { host: SHARED } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer).toEqual({ status: 301, location: `https://${SHARED}/room/physics` });
    expect(await logged(a, beforeA, 0)).toEqual([]);
  });

  it("Pebble issues the shared name's certificate to certbot on node A although its validation reached node B", async () => {
    const pki = join(root, 'pki');
    mkdirSync(pki);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
    // Pebble's own API certificate (certbot must trust it; never Let's Encrypt's).
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test ACME API CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'api.key', '-out', 'api.csr', '-subj', '/CN=pebble');
    writeFileSync(join(pki, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    ssl('x509', '-req', '-in', 'api.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'api.pem', '-days', '2', '-extfile', 'ext.cnf');
    writeFileSync(
      join(pki, 'pebble.json'),
      JSON.stringify({ pebble: { listenAddress: '127.0.0.1:14000', managementListenAddress: '127.0.0.1:15000', certificate: join(pki, 'api.pem'), privateKey: join(pki, 'api.key'), httpPort: PORT, tlsPort: 15001, ocspResponderURL: '', externalAccountBindingRequired: false } }),
    );
    // Every name resolves to node B: whatever Let's Encrypt's validation asks, B answers.
    start('pebble-challtestsrv', ['-dns01', '127.0.0.1:18053', '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', '127.0.0.1:18055', '-defaultIPv4', B, '-defaultIPv6', '']);
    const pebble = start('pebble', ['-config', join(pki, 'pebble.json'), '-dnsserver', '127.0.0.1:18053'], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' });
    for (const deadline = Date.now() + 15_000; !(pebble as ChildProcess & { output: () => string }).output().includes('Listening on'); ) {
      if (pebble.exitCode !== null || Date.now() > deadline) throw new Error(`pebble did not start: ${(pebble as ChildProcess & { output: () => string }).output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const beforeA = a.accessLog().length;
    const beforeB = b.accessLog().length;
    const certbot = join(root, 'certbot');
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = start(
        'certbot',
        ['certonly', '--non-interactive', '--agree-tos', '-m', 'it-drift@example-university.dk', '--server', 'https://127.0.0.1:14000/dir', '--webroot', '-w', a.webroot, '-d', SHARED, '--config-dir', join(certbot, 'config'), '--work-dir', join(certbot, 'work'), '--logs-dir', join(certbot, 'logs'), '--no-random-sleep-on-renew'],
        { REQUESTS_CA_BUNDLE: join(pki, 'ca.pem') },
      );
      child.once('exit', (code) => resolve({ code, output: (child as ChildProcess & { output: () => string }).output() }));
    });
    expect(run.code, run.output).toBe(0);
    const issued = new X509Certificate(readFileSync(join(certbot, 'config', 'live', SHARED, 'fullchain.pem')));
    expect(issued.subjectAltName).toBe(`DNS:${SHARED}`);
    // The validation reached B (not A directly) and B relayed it to A, where certbot had put the token.
    const isChallenge = (l: string) => l.includes('/.well-known/acme-challenge/');
    const atB = (await logged(b, beforeB, 1)).filter(isChallenge);
    const atA = (await logged(a, beforeA, atB.length)).filter(isChallenge);
    expect(atB.length, JSON.stringify({ atA, atB })).toBeGreaterThan(0);
    expect(atB.every((l) => / 200 relayed=-$/.test(l)), atB.join('\n')).toBe(true);
    expect(atA.length).toBe(atB.length);
    expect(atA.every((l) => / 200 relayed=1$/.test(l)), atA.join('\n')).toBe(true);
  }, 120_000);
});
