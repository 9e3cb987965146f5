// A cluster's placement is decided before anything exists: every node's zone and the coordination
// store's region must be proven in the country (default deny), or the stack is refused. Pure, no runtime.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/index.js';
import { ResidencyError } from '../../config/residency/index.js';
import { planDeployment } from '../../infra/plan.js';
import { deployedServerConfig } from '../../infra/server-config.js';
import { placementRefusal } from '../../server/cluster/residency.js';
import { stackConfig } from './support/harness.js';

const withDeployment = (file: string, change: (d: Record<string, any>) => void, extra: Record<string, unknown> = {}): Record<string, string> => {
  const base = stackConfig(file);
  const deployment = JSON.parse(base['lectern:deployment']!);
  change(deployment);
  return { ...base, 'lectern:deployment': JSON.stringify(deployment), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, JSON.stringify(v)])) };
};
const cluster = (change: (d: Record<string, any>) => void = () => {}, extra: Record<string, unknown> = {}) => withDeployment('Pulumi.example-de-cluster.yaml', change, extra);

function refusal(fn: () => unknown): { kind: string; problems: string[] } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ResidencyError) return { kind: 'residency', problems: err.problems };
    if (err instanceof ConfigError) return { kind: 'config', problems: err.problems };
    throw err;
  }
  throw new Error('did not refuse');
}

describe('cluster plan', () => {
  it('one media node (the default) plans no cluster: the single-host stacks are unchanged', () => {
    for (const file of ['Pulumi.example-de.yaml', 'Pulumi.example-ca.yaml', 'Pulumi.example-dk.yaml']) {
      const plan = planDeployment(stackConfig(file));
      expect(plan.deployment.sfu.count, file).toBe(1);
      expect(plan.cluster, file).toBeUndefined();
    }
  });

  it('places three nodes round robin over the zones given, with fixed private addresses', () => {
    const plan = planDeployment(cluster((d) => (d.sfu = { count: 4, zones: ['eu-central-1b', 'eu-central-1c'] })));
    expect(plan.cluster!.nodes.map((n) => [n.id, n.zone, n.privateAddress])).toEqual([
      ['media-1', 'eu-central-1b', '10.42.1.10'],
      ['media-2', 'eu-central-1c', '10.42.2.10'],
      ['media-3', 'eu-central-1b', '10.42.1.11'],
      ['media-4', 'eu-central-1c', '10.42.2.11'],
    ]);
    expect(plan.cluster!.redisRegion).toBe('eu-central-1');
  });

  it('refuses a node in a zone abroad, in a zone not catalogued, or in an in-country zone outside the placement', () => {
    expect(refusal(() => planDeployment(cluster((d) => (d.sfu = { count: 3, zones: ['eu-central-1a', 'eu-west-1a'] }))))).toEqual({
      kind: 'residency',
      problems: ['deployment.sfu.zones: eu-west-1a is in IE, outside DE; a node there is refused'],
    });
    expect(refusal(() => planDeployment(cluster((d) => (d.sfu = { count: 2, zones: ['eu-central-1z'] })))).problems).toEqual([
      // Named like a Frankfurt zone, but not one AWS has: refused, not assumed.
      'deployment.sfu.zones: eu-central-1z is not a zone of the placement eu-central-1 (eu-central-1a, eu-central-1b, eu-central-1c)',
    ]);
    // Hamburg is in Germany, but a Local Zone the region placement does not opt in to.
    expect(refusal(() => planDeployment(cluster((d) => (d.sfu = { count: 2, zones: ['eu-central-1-ham-1a'] })))).problems).toEqual([
      'deployment.sfu.zones: eu-central-1-ham-1a is not a zone of the placement eu-central-1 (eu-central-1a, eu-central-1b, eu-central-1c)',
    ]);
  });

  it('in a Local Zone (Copenhagen, parent Stockholm) puts Redis on media-1 in the zone, never the managed Redis abroad', () => {
    const dk = withDeployment('Pulumi.example-dk.yaml', (d) => {
      d.sfu = { ...d.sfu, count: 3 };
      d.turn = { ...d.turn, mode: 'separate' };
    });
    const plan = planDeployment(dk).cluster!;
    expect(plan.coordination).toEqual({ kind: 'host', nodeId: 'media-1', zone: 'eu-north-1-cph-1a', privateAddress: '10.42.1.10' });
    expect(plan.redisRegion).toBeUndefined();
    expect(plan.nodes.map((n) => [n.id, n.zone, n.privateAddress])).toEqual([
      ['media-1', 'eu-north-1-cph-1a', '10.42.1.10'],
      ['media-2', 'eu-north-1-cph-1a', '10.42.1.11'],
      ['media-3', 'eu-north-1-cph-1a', '10.42.1.12'],
    ]);
    // A region placement keeps the managed Redis in its own region.
    expect(planDeployment(cluster(() => {})).cluster!.coordination).toEqual({ kind: 'managed', region: 'eu-central-1' });
  });

  it('refuses what a cluster cannot run: colocated TURN, pipe ports over the media ports, zones for one node', () => {
    expect(refusal(() => planDeployment(cluster((d) => (d.turn = { mode: 'colocated' }))))).toEqual({
      kind: 'config',
      problems: ['lectern:deployment.turn.mode: a cluster needs a separate TURN host (coturn on one node could relay to that node only)'],
    });
    expect(refusal(() => planDeployment(cluster(() => {}, { 'lectern:media': { workers: 4, pipe: { portMin: 40002, portMax: 40100 } } }))).problems).toEqual([
      'lectern:media.pipe: 40002-40100 overlaps the media ports 40000-40003',
    ]);
    expect(refusal(() => planDeployment(cluster((d) => (d.sfu = { count: 1, zones: ['eu-central-1b'] })))).problems).toEqual([
      'lectern:deployment.sfu.zones: only for several nodes (sfu.count > 1); one host goes to deployment.availabilityZone',
    ]);
  });

  it('refuses a stack-wide cluster section: each node gets its own from the deployment', () => {
    const stack = cluster(() => {}, { 'lectern:cluster': { nodeId: 'everyone', placement: { country: 'DE' } } });
    expect(refusal(() => planDeployment(stack))).toEqual({ kind: 'config', problems: ['lectern:cluster: set by the deployment itself for each node (deployment.sfu.count); remove it from the stack'] });
  });

  it("writes each node a placement the cluster registry accepts, and the registry's rule refuses the same node moved abroad", () => {
    const plan = planDeployment(cluster());
    for (const node of plan.cluster!.nodes) {
      const config = deployedServerConfig(plan, { announcedAddress: '203.0.113.7', clusterNode: { node, redisEndpoint: 'master.redis.example.euc1.cache.amazonaws.com' } });
      expect(placementRefusal(config.cluster!.placement, 'DE'), node.id).toBeUndefined();
      expect(placementRefusal({ ...config.cluster!.placement, zone: 'eu-west-1a', region: 'eu-west-1' }, 'DE')).toMatch(/not in DE/);
    }
  });
});

describe("a node's written config at the server's own start-up", () => {
  it('passes the cluster start-up checks (createCoordinator): Redis over TLS with the token file, the placement in the deployment country', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createCoordinator } = await import('../../server/cluster/createCoordinator.js');
    const { RedisCoordinator } = await import('../../server/cluster/RedisCoordinator.js');
    const plan = planDeployment(cluster());
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'lectern-redis-auth-')), 'redis-auth');
    writeFileSync(tokenFile, 'c1f0e7a29b54d83e6f2a0b9c\n');
    for (const node of plan.cluster!.nodes) {
      const written = deployedServerConfig(plan, { announcedAddress: '203.0.113.7', clusterNode: { node, redisEndpoint: 'master.redis.example.euc1.cache.amazonaws.com' } });
      // The host writes the token file at boot; here a file of our own stands in for /run/lectern/redis-auth.
      const config = { ...written, cluster: { ...written.cluster!, redis: { ...written.cluster!.redis!, passwordFile: tokenFile } } };
      const coordinator = createCoordinator(config);
      expect(coordinator, node.id).toBeInstanceOf(RedisCoordinator);
    }
  });
});
