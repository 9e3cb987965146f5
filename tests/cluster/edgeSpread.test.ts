// A big room on an edge node spreads over the edge's own workers, with real processes: a home node
// (one worker, a small share) and an edge node with two mediasoup workers and a low spread
// threshold, coordinated through a real redis-server; werift WebRTC participants (real VP8 and
// Opus). The first edge subscriber fills the edge room's first router; the second gets a router on
// the edge's other worker, the home's tracks piped there from the first (pipeToRouter inside the
// host), and receives them through both pipes. Read back from the edge's mediasoup through
// GET /admin/cluster (edgeRouters) on the edge and on the home, and in the audit of the home. A track that ends closes its consumers on both routers; the edge
// room left empty closes both routers and the home drops the edge as the room's forwarder.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, freePort, type TestRedis } from '../helpers/redisServer.js';
import { startNode, type ClusterNodeProcess } from '../helpers/clusterNode.js';
import { BotParticipant } from '../../bench/lib/BotParticipant.js';
import { loadWerift } from '../../bench/lib/werift.js';
import { vp8Clip } from '../../bench/lib/vp8Clip.js';
import { audit, gatherInputs } from '../../audit/audit.js';
import { waitFor } from '../helpers/testSfu.js';

const ADMIN_TOKEN = 'edge-spread-test-admin-token-long-enough-to-be-real';
const SECRET = 'a-cluster-secret-shared-by-every-node-0123456789';
const ROOM = 'lecture-spread';

let redis: TestRedis;
let home: ClusterNodeProcess;
let edge: ClusterNodeProcess;
const bots: BotParticipant[] = [];

type EdgeRouter = { node: string; home: string; worker: number; via: 'home-pipe' | 'worker-pipe'; tracks: number; consumers: number };
type Registry = { pipes?: { to: string; tracks: number }[]; edgeRouters?: EdgeRouter[] };

async function registry(node: ClusterNodeProcess): Promise<Registry> {
  const response = await fetch(`${node.url}/admin/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Registry;
}

const edgeRouters = async (node = edge) => ((await registry(node)).edgeRouters ?? []).sort((a, b) => a.worker - b.worker);

beforeAll(async () => {
  redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'lectern-edge-spread-'));
  const secretFile = join(dir, 'cluster-secret');
  writeFileSync(secretFile, `${SECRET}\n`);
  const auth = { adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] };
  const node = async (nodeId: string, address: string, zone: string, media: Record<string, unknown>, edgeSubscribers: number) =>
    startNode({
      nodeId,
      address,
      redisPort: redis.port,
      placement: { country: 'DE', region: 'eu-central-1', zone },
      media: { ...media, pipe: { portMin: 43000, portMax: 43999 } },
      config: { auth, signalling: { resumeGraceSeconds: 1 } },
      cluster: { internal: { host: address, port: await freePort(address), secretFile, edgeSubscribers } },
    });
  // The home's share: 3 consumers (ada's 2 tracks to bob; a publisher is not due its own tracks, so
  // carol's 2 more pass it). The edge: two
  // workers, a room's router taking no new subscriber once it holds (or is due) 2 consumers.
  [home, edge] = await Promise.all([
    node('node-a', '127.0.0.2', 'eu-central-1a', { capacity: { consumersPerWorker: 3, reservedForInstructors: 0, loadSampleMs: 60_000 } }, 0),
    node('node-b', '127.0.0.3', 'eu-central-1b', { workers: 2, capacity: { roomSpreadConsumers: 2, loadSampleMs: 60_000 } }, 4),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all(bots.map((b) => b.close().catch(() => undefined)));
  await Promise.all([home, edge].filter(Boolean).map((n) => n.kill('SIGKILL')));
  await redis?.kill();
});

describe('an edge node spreads a big room over its workers', () => {
  it('puts the second edge subscriber on the edge\'s second worker, where it receives the home\'s tracks through both pipes; closing cascades to both routers', async () => {
    const werift = await loadWerift();
    const clip = vp8Clip(160, 90, 15, 2, 100);
    const join = async (name: string, options: { camera?: boolean; microphone?: boolean } = {}) => {
      const bot = await BotParticipant.join(werift, home.wsUrl, ROOM, name, clip, options);
      bots.push(bot);
      return bot;
    };
    const listener = { camera: false, microphone: false };
    const raw = redis.client();
    try {
      await waitFor('node-b to offer edge room', async () => (JSON.parse((await raw.get('lectern:node:node-b')) ?? '{}') as { edgeRoom?: number }).edgeRoom === 4);
      const ada = await join('Ada');
      const bob = await join('Bob', listener);
      await waitFor('bob to receive ada at home', () => bob.consumerCount >= 2);

      // Carol: past the home's share, on the edge; she fills the edge room's first router.
      const carol = await join('Carol', listener);
      await waitFor('carol to receive ada', () => carol.consumerCount >= 2);
      expect((await edgeRouters()).map((r) => [r.via, r.consumers])).toEqual([['home-pipe', 2]]);

      // Dave: on the edge too, on a router of the edge's other worker.
      const dave = await join('Dave', listener);
      await waitFor('dave to receive ada', () => dave.consumerCount >= 2);
      const routers = await edgeRouters();
      expect(routers).toHaveLength(2);
      expect(new Set(routers.map((r) => r.worker))).toEqual(new Set([0, 1]));
      expect(routers.map((r) => [r.node, r.home, r.via, r.tracks, r.consumers]).sort()).toEqual([
        ['node-b', 'node-a', 'home-pipe', 2, 2],
        ['node-b', 'node-a', 'worker-pipe', 2, 2],
      ]);
      // The home node lists them too (asked of the edge): the audit of the home sees every router of its room.
      expect(await edgeRouters(home)).toEqual(routers);
      const report = audit(await gatherInputs({ url: home.url, adminToken: ADMIN_TOKEN }));
      expect(report.model.flows.filter((f) => f.label.startsWith('Worker pipe')).map((f) => [f.label, f.location.country])).toEqual([
        [`Worker pipe on node node-b: 2 track(s) of a class of node-a to its media worker ${routers.find((r) => r.via === 'worker-pipe')!.worker}`, 'DE'],
      ]);
      expect(report.findings.filter((f) => f.title.startsWith('Worker pipe'))).toEqual([]);
      // One SRTP pipe from the home carries the tracks for both (the second worker gets them inside the host).
      expect((await registry(home)).pipes?.map((p) => [p.to, p.tracks])).toEqual([['node-b', 2]]);
      // Real VP8 and Opus from ada reach dave through the home's pipe and the edge's worker pipe, and carol as before.
      await waitFor('video and audio at dave and carol', () =>
        [dave, carol].every((b) => {
          const c = b.counts();
          return c.video.received > 30 && c.audio.received > 30;
        }),
      );

      // Ada's tracks end: their copies close on both edge routers, and with them carol's and dave's consumers.
      await ada.close();
      await waitFor('ada gone from the edge routers', async () => (await edgeRouters()).every((r) => r.tracks === 0 && r.consumers === 0), 20_000);
      await waitFor('dave told his consumers closed', () => dave.receiveState.includes('2 closed by the server'), 20_000);

      // The edge room is left empty: both its routers close, the home closes its pipe and drops the forwarder.
      await carol.close();
      await dave.close();
      await waitFor('edge routers closed', async () => (await edgeRouters()).length === 0 && (await edgeRouters(home)).length === 0, 20_000);
      expect(edge.log()).toContain('edge room closed: no pipe and no subscriber left');
      await waitFor('home pipe closed', async () => ((await registry(home)).pipes ?? []).length === 0, 20_000);
      await waitFor('forwarder dropped', async () => (await raw.smembers(`lectern:room:${ROOM}:forwarders`)).length === 0, 20_000);
    } finally {
      raw.disconnect();
    }
  }, 150_000);
});
