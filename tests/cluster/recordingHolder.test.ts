// A recording lives on the node that recorded it, while every node answers the one shared site
// name: real node processes (server/main.ts) on 127.0.0.2-3 with their own recording directories,
// and a real redis-server. A class recorded on node A is in the directory (lectern:recording:<id>,
// no TTL); its playback page and API opened through node B are sent to A (302, same path and
// query), where they open; DELETE and POST /links through B are sent on with their method (307);
// a recording nobody holds is B's 404 as before; A SIGKILLed, B says after A's TTL that the server
// holding it is not available (503), never that it does not exist; A started again (same disk)
// puts what it holds back in the directory.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { Authenticator } from '../../server/auth/index.js';
import { RECORDING_HOLDER_DOWN } from '../../server/cluster/ClusterNode.js';
import { startRedis, type TestRedis } from '../helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../helpers/clusterNode.js';
import { SignallingClient } from '../helpers/SignallingClient.js';

const SECRET = 'recording-holder-test-secret-32-bytes-or-more';
const ADMIN_TOKEN = 'recording-holder-admin-token-5c1f';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const TTL_SECONDS = 2;

let redis: TestRedis;
let a: ClusterNodeProcess;
let b: ClusterNodeProcess;
let issuer: Authenticator;
/** Recorded on A in beforeAll: played through B, then A is killed. */
let kept: string;
/** A's config (its recording directory): a restarted A has the same disk. */
const configA = nodeConfig('a');
const optionsA = { nodeId: 'node-a', address: '127.0.0.2', cluster: { ttlSeconds: TTL_SECONDS }, config: configA };

/** A node with the shared auth secret and a recording directory of its own (its own disk). */
function nodeConfig(name: string): Record<string, unknown> {
  return {
    auth: { tokenSecret: SECRET, adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] },
    recording: { dir: join(mkdtempSync(join(tmpdir(), `lectern-rec-${name}-`)), 'recordings') },
  };
}

beforeAll(async () => {
  redis = await startRedis();
  [a, b] = await Promise.all([
    startNode({ ...optionsA, redisPort: redis.port }),
    startNode({ nodeId: 'node-b', address: '127.0.0.3', redisPort: redis.port, cluster: { ttlSeconds: TTL_SECONDS }, placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1b' }, config: nodeConfig('b') }),
  ]);
  issuer = await Authenticator.create(parseConfig({ auth: { tokenSecret: SECRET } }).auth, pino({ level: 'silent' }));
  kept = await recordOn(a, 'history-201');
}, 90_000);

afterAll(async () => {
  await Promise.all([a, b].filter(Boolean).map((n) => n.kill('SIGKILL')));
  await redis?.kill();
});

/** Record a short class on `node` over signalling (an instructor starts and stops); its id once its files are closed. */
async function recordOn(node: ClusterNodeProcess, room: string): Promise<string> {
  const client = await SignallingClient.connect(node.wsUrl);
  try {
    const token = await issuer.issueRoomToken({ room, role: 'instructor', subject: `teacher-${room}` });
    const joined = await client.ok('join', { room, displayName: 'Teacher', token });
    await client.ok('createTransport', { direction: 'recv' });
    await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    const id = (await client.ok('startRecording', {})).recordingId as string;
    await client.ok('stopRecording', {});
    // Stopped once the holder's summary says so (DELETE is refused while it is still being written).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await fetch(`${node.url}/recordings/${id}`, { headers: ADMIN });
      const body = (await response.json()) as { recording?: { stoppedAt: number | null } };
      if (response.status === 200 && body.recording?.stoppedAt != null) return id;
      if (Date.now() > deadline) throw new Error(`recording ${id} did not stop: ${response.status} ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}

/** One request, redirects not followed. */
async function ask(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, redirect: 'manual' });
}

describe('a recording held by another node', () => {
  it('is in the directory under the prefix, naming the node that recorded it, with no TTL', async () => {
    const raw = redis.client();
    expect(await raw.get(`lectern:recording:${kept}`)).toBe('node-a');
    expect(await raw.pttl(`lectern:recording:${kept}`)).toBe(-1);
    raw.disconnect();
  });

  it('sends its playback page opened through node B to node A, where it opens', async () => {
    const sent = await ask(`${b.url}/play/${kept}`);
    expect(sent.status).toBe(302);
    expect(sent.headers.get('location')).toBe(`${a.url}/play/${kept}`);
    const page = await fetch(sent.headers.get('location')!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('/assets/play.js');
    // HEAD the same.
    const head = await ask(`${b.url}/play/${kept}`, { method: 'HEAD' });
    expect(head.status).toBe(302);
    expect(head.headers.get('location')).toBe(`${a.url}/play/${kept}`);
  });

  it('sends its API reads through B to A with the same path and query; following them answers the authorised request', async () => {
    // As the page asks: a signed playback link in the query (issued by the holder).
    const issued = await fetch(`${a.url}/recordings/${kept}/links`, { method: 'POST', headers: ADMIN });
    expect(issued.status).toBe(200);
    const { token } = (await issued.json()) as { token: string };
    const sent = await ask(`${b.url}/recordings/${kept}?link=${encodeURIComponent(token)}`);
    expect(sent.status).toBe(302);
    const location = sent.headers.get('location')!;
    expect(location).toBe(`${a.url}/recordings/${kept}?link=${encodeURIComponent(token)}`);
    const played = await fetch(location);
    expect(played.status).toBe(200);
    expect(((await played.json()) as { recording: { id: string; room: string } }).recording).toMatchObject({ id: kept, room: 'history-201' });
    // With a credential header: sent on too, and answered there for the admin.
    const admin = await ask(`${b.url}/recordings/${kept}`, { headers: ADMIN });
    expect(admin.status).toBe(302);
    expect(admin.headers.get('location')).toBe(`${a.url}/recordings/${kept}`);
    expect((await fetch(admin.headers.get('location')!, { headers: ADMIN })).status).toBe(200);
    // The other reads: a track and the export.
    for (const path of [`/recordings/${kept}/tracks/seg-0001`, `/recordings/${kept}/export`]) {
      const read = await ask(`${b.url}${path}`, { headers: ADMIN });
      expect(read.status, path).toBe(302);
      expect(read.headers.get('location'), path).toBe(`${a.url}${path}`);
    }
  });

  it('sends DELETE and POST /links through B on with their method (307); the deletion there takes it out of the directory', async () => {
    const doomed = await recordOn(a, 'history-202');
    const link = await ask(`${b.url}/recordings/${doomed}/links`, { method: 'POST', headers: ADMIN });
    expect(link.status).toBe(307);
    expect(link.headers.get('location')).toBe(`${a.url}/recordings/${doomed}/links`);
    const sent = await ask(`${b.url}/recordings/${doomed}`, { method: 'DELETE', headers: ADMIN });
    expect(sent.status).toBe(307);
    expect(sent.headers.get('location')).toBe(`${a.url}/recordings/${doomed}`);
    const deleted = await fetch(sent.headers.get('location')!, { method: 'DELETE', headers: ADMIN });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ recordingId: doomed, reason: 'requested by an admin' });
    const raw = redis.client();
    expect(await raw.exists(`lectern:recording:${doomed}`)).toBe(0);
    raw.disconnect();
    // Gone everywhere: B's own 404, A's own 404.
    for (const node of [b, a]) {
      const gone = await ask(`${node.url}/recordings/${doomed}`, { headers: ADMIN });
      expect(gone.status, node.nodeId).toBe(404);
    }
  });

  it('tells a recording another node holds (sent there) from one no node holds (its 404, as before)', async () => {
    const unknown = randomUUID();
    const [held, nobody] = await Promise.all([ask(`${b.url}/recordings/${kept}`, { headers: ADMIN }), ask(`${b.url}/recordings/${unknown}`, { headers: ADMIN })]);
    expect([held.status, nobody.status]).toEqual([302, 404]);
    expect(await nobody.json()).toMatchObject({ error: { code: 'not_found' } });
    // The page itself opens as it always did (its API read then says there is no such recording).
    expect((await ask(`${b.url}/play/${unknown}`)).status).toBe(200);
  });

  it('says the server holding it is not available (503) once A is SIGKILLed and past its TTL, never that it does not exist', async () => {
    await a.kill('SIGKILL');
    const deadline = Date.now() + (TTL_SECONDS + 10) * 1000;
    let response: Response;
    for (;;) {
      response = await ask(`${b.url}/recordings/${kept}`, { headers: ADMIN });
      if (response.status !== 302 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: { code: 'unavailable', message: RECORDING_HOLDER_DOWN } });
    const page = await ask(`${b.url}/play/${kept}`);
    expect(page.status).toBe(503);
    expect(((await page.json()) as { error: { message: string } }).error.message).toBe(RECORDING_HOLDER_DOWN);
    // The recording is still on A's disk: the directory still names A.
    const raw = redis.client();
    expect(await raw.get(`lectern:recording:${kept}`)).toBe('node-a');
    raw.disconnect();
  });

  it('is put back in the directory by its node when that node starts (recorded before the directory knew it), and sent there again', async () => {
    const raw = redis.client();
    // A directory that does not know it (recorded before this version, or the entry lost with Redis).
    await raw.del(`lectern:recording:${kept}`);
    a = await startNode({ ...optionsA, redisPort: redis.port });
    expect(await raw.get(`lectern:recording:${kept}`)).toBe('node-a');
    expect(await raw.pttl(`lectern:recording:${kept}`)).toBe(-1);
    raw.disconnect();
    const sent = await ask(`${b.url}/play/${kept}`);
    expect(sent.status).toBe(302);
    expect(sent.headers.get('location')).toBe(`${a.url}/play/${kept}`);
    expect((await fetch(`${a.url}/recordings/${kept}`, { headers: ADMIN })).status).toBe(200);
  });
});
