// The audit of a live cluster: `lectern audit --url` reads the registry through a node
// (GET /admin/cluster), and every node becomes a flow with its country. A node in the registry
// placed outside the country (one that wrote itself in past the check) is a finding, not hidden.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { Sfu } from '../../sfu/index.js';
import { build, type Lectern } from '../../server/app.js';
import { audit, gatherInputs } from '../../audit/audit.js';
import { startRedis, type TestRedis } from '../helpers/redisServer.js';
import { DEPLOYMENT_DE } from '../helpers/clusterNode.js';

const ADMIN_TOKEN = 'cluster-audit-admin-token-long-enough-to-be-real';
let redis: TestRedis;
let sfu: Sfu;
let node: Lectern;
let url: string;

beforeAll(async () => {
  redis = await startRedis();
  const config = parseConfig({
    log: { level: 'silent' },
    audit: { dir: mkdtempSync(join(tmpdir(), 'lectern-audit-')) },
    auth: { adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] },
    deployment: DEPLOYMENT_DE,
    cluster: { nodeId: 'node-a', redis: { host: redis.host, port: redis.port }, placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1a' } },
  });
  sfu = await Sfu.create({ workers: 1, listenIp: '127.0.0.1', rtcPort: 0, logLevel: 'warn', ioUring: false, maxIncomingBitrate: 3_000_000, initialAvailableOutgoingBitrate: 1_000_000 });
  node = await build({ config, sfu });
  url = await node.app.listen({ host: '127.0.0.1', port: 0 });
  await node.cluster.start(url);
});

afterAll(async () => {
  await node?.app.close();
  sfu?.close();
  await redis?.kill();
});

const mediaNodes = (report: ReturnType<typeof audit>) => report.model.flows.filter((f) => f.label.startsWith('Media node'));

describe('the audit of a live cluster', () => {
  it('lists every registered node as a flow with its country', async () => {
    const raw = redis.client();
    // A second node, registered as the registry does (a Hamburg Local Zone is in Germany).
    const b = { id: 'node-b', signallingUrl: 'http://127.0.0.3:3000', placement: { country: 'DE', region: 'eu-central-1', zone: 'eu-central-1-ham-1a' }, capacity: 500, load: 0, draining: false, startedAt: Date.now() };
    await raw.multi().set('lectern:node:node-b', JSON.stringify(b), 'PX', 60_000).sadd('lectern:nodes', 'node-b').exec();
    raw.disconnect();
    const report = audit(await gatherInputs({ url, adminToken: ADMIN_TOKEN }));
    const nodes = mediaNodes(report);
    expect(nodes.map((f) => [f.label, f.location.country]).sort()).toEqual([
      ['Media node node-a', 'DE'],
      ['Media node node-b', 'DE'],
    ]);
    expect(nodes.find((f) => f.label === 'Media node node-b')!.location.place).toMatch(/Hamburg/);
    expect(report.findings.filter((f) => f.rule === 'flow-outside-country' && f.title.startsWith('Media node'))).toEqual([]);
  });

  it('reports a node in the registry that is placed outside the country', async () => {
    const raw = redis.client();
    const rogue = { id: 'node-se', signallingUrl: 'http://127.0.0.9:3000', placement: { country: 'SE', region: 'eu-north-1', zone: 'eu-north-1a' }, capacity: 500, load: 0, draining: false, startedAt: Date.now() };
    await raw.multi().set('lectern:node:node-se', JSON.stringify(rogue), 'PX', 60_000).sadd('lectern:nodes', 'node-se').exec();
    raw.disconnect();
    const report = audit(await gatherInputs({ url, adminToken: ADMIN_TOKEN }));
    const finding = report.findings.find((f) => f.rule === 'flow-outside-country' && f.title.startsWith('Media node node-se'));
    expect(finding?.severity).toBe('high');
    expect(finding?.title).toBe('Media node node-se is in SE, not DE');
    // Never a home for a room: placement does not use it.
    expect((await node.cluster.coordinator.nodes()).map((n) => n.id).sort()).toEqual(['node-a', 'node-b']);
  });

  it('reports a registry it could not read', async () => {
    await redis.kill();
    const report = audit(await gatherInputs({ url, adminToken: ADMIN_TOKEN }));
    expect(report.findings.find((f) => f.rule === 'cluster-registry-unread')?.severity).toBe('high');
  });

  it('reports a server whose registry cannot be fetched at all (older server, error): never passed over', async () => {
    // The live server as read, with the registry's fetch failed as an older server's would.
    const { cluster: _read, ...inputs } = await gatherInputs({ url, adminToken: ADMIN_TOKEN });
    const report = audit({ ...inputs, clusterUnread: { source: 'https://lectern.example/admin/cluster', reason: 'answered HTTP 404' } });
    const finding = report.findings.find((f) => f.rule === 'cluster-registry-unread');
    expect(finding).toMatchObject({ severity: 'high', evidence: 'answered HTTP 404', where: 'https://lectern.example/admin/cluster' });
  });

  it('keeps the registry behind the admin token', async () => {
    expect((await fetch(`${url}/admin/cluster`)).status).toBe(401);
  });
});
