// An acknowledged action is in the audit log, whatever happens next (issue 12, defect 5): a join is
// answered only after its entry is on disk, so killing the server (SIGKILL) the moment a reply
// arrives never loses an acknowledged join. Before, replies went out while the entry still waited
// behind another batch's fdatasync, and some acknowledged joins were lost.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_FILES } from '../../audit/log/index.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function startChild(dir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../helpers/lecternChild.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`lectern child exited with ${code}`)));
  });
  return { child, exited, ...(JSON.parse(line) as { url: string; wsUrl: string }) };
}

/** Open `n` sockets, send every join at once, SIGKILL the server at the `killAfter`th reply. */
async function joinAndKill(n: number, killAfter: number): Promise<{ acknowledged: number; recorded: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-durable-'));
  dirs.push(dir);
  const server = await startChild(dir);
  const sockets = await Promise.all(
    Array.from({ length: n }, () => new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(server.wsUrl);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    })),
  );
  let acknowledged = 0;
  for (const socket of sockets) {
    socket.on('error', () => undefined);
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { kind: string; ok?: boolean };
      if (frame.kind !== 'response' || !frame.ok) return;
      acknowledged += 1;
      if (acknowledged === killAfter) server.child.kill('SIGKILL');
    });
  }
  sockets.forEach((socket, i) => socket.send(JSON.stringify({ kind: 'request', id: 1, method: 'join', data: { room: 'crash-101', displayName: `Student ${i}` } })));
  await server.exited;
  for (const socket of sockets) socket.terminate();
  const text = await readFile(join(dir, AUDIT_FILES.log), 'utf8');
  const recorded = text.split('\n').filter((line) => line.includes('"action":"peer.joined"')).length;
  return { acknowledged, recorded };
}

describe('durable audit before acknowledgement', () => {
  it('no acknowledged join is lost when the server is killed right after replying', async () => {
    const rounds = [];
    for (let round = 0; round < 4; round++) rounds.push(await joinAndKill(30, 5 + round * 4));
    console.log(`acknowledged/recorded joins per kill: ${rounds.map((r) => `${r.acknowledged}/${r.recorded}`).join(', ')}`);
    for (const round of rounds) expect(round.recorded).toBeGreaterThanOrEqual(round.acknowledged);
  }, 120_000);
});
