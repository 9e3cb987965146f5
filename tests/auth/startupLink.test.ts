// The instructor link `npm start` prints when no keys are configured, from the real start-up path:
// server/main.ts in its own process. The link names no one, so the name the instructor types is the
// name the class sees (a name in a link beats a typed one, so a link that said "Instructor" made
// every instructor "Instructor").
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/paths.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { freePort } from './support.js';

let child: ChildProcess;
let link: URL;

beforeAll(async () => {
  const root = projectRoot();
  child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server', 'main.ts')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LECTERN_HTTP_PORT: '0',
      LECTERN_MEDIA_WORKERS: '1',
      LECTERN_MEDIA_RTC_PORT: String(await freePort()),
      LECTERN_AUDIT_DIR: mkdtempSync(join(tmpdir(), 'lectern-audit-')),
      LECTERN_LOG_LEVEL: 'info',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  link = await new Promise<URL>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let msg: unknown;
      try {
        msg = (JSON.parse(line) as { msg?: unknown }).msg;
      } catch {
        return; // not a pino line
      }
      const match = typeof msg === 'string' ? /^Instructor link \(any room, 12 h\): (\S+)$/.exec(msg) : null;
      if (match) resolve(new URL(match[1]!));
    });
    child.once('exit', (code) => reject(new Error(`lectern exited (${code}): ${stderr}`)));
  });
}, 60_000);

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
});

describe('the instructor link printed at start-up', () => {
  it('carries no name: the instructor joins under the name they type', async () => {
    const token = new URLSearchParams(link.hash.slice(1)).get('token')!;
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).not.toHaveProperty('name');
    const wsUrl = `ws://${link.host}/ws`;
    const teacher = await SignallingClient.connect(wsUrl);
    const joined = await teacher.ok('join', { room: 'my-class', displayName: 'Prof. Ada Typed', token });
    expect(joined.role).toBe('instructor');
    await teacher.ok('createTransport', { direction: 'recv' });
    await teacher.ok('ready', { rtpCapabilities: (joined.routerRtpCapabilities as Record<string, unknown>) ?? {} });
    const student = await SignallingClient.connect(wsUrl);
    const guest = await student.ok('join', { room: 'my-class', displayName: 'Ben' });
    await student.ok('createTransport', { direction: 'recv' });
    const state = await student.ok('ready', { rtpCapabilities: (guest.routerRtpCapabilities as Record<string, unknown>) ?? {} });
    const peers = state.peers as Array<{ displayName: string; role: string }>;
    expect(peers).toContainEqual(expect.objectContaining({ displayName: 'Prof. Ada Typed', role: 'instructor' }));
    teacher.close();
    student.close();
  }, 30_000);
});
