// Germany, a university across hosts: three media nodes over Frankfurt's three zones, an in-region
// ElastiCache Redis for the registry and room directory, a separate TURN host relaying to every node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LecternConfig } from '../../config/index.js';
import { main } from '../../audit/cli.js';
import { auditGraph, exportOf } from '../audit/helpers/sweep.js';
import { readAuditConfig } from '../../audit/sources/configFile.js';
import type { EgressDestination } from '../../infra/egress/destinations.js';
import { CLUSTER_SECRET, ProgramError, REDIS_TOKEN, TURN_SECRET, runProgram, stackConfig, violations, type Invoked, type Recorded } from './support/harness.js';
import { residencyResourcePolicies } from '../../infra/residency/policies.js';
import { cloudConfig, expectPinnedProvider, expectPoliciesPass, ingressOf, inventory, userDataOf } from './support/checks.js';

const SECRET_SIG_KEY = '4dabf18193072939515e22adb298388d';
let resources: Recorded[];
let invokes: Invoked[];
let outputs: Record<string, unknown>;
type Node = { id: string; zone: string; publicIp: string; privateAddress: string; signallingUrl: string };
let nodes: Node[];

const byName = (name: string): Recorded => {
  const found = resources.find((r) => r.name === name);
  expect(found, name).toBeDefined();
  return found!;
};
const serverConfigOf = (node: string): LecternConfig => {
  const doc = cloudConfig(userDataOf(resources, `lectern-${node}-instance`));
  return parseConfig(JSON.parse(doc.write_files.find((f) => f.path === '/etc/lectern/config.base.json')!.content));
};

beforeAll(async () => {
  ({ resources, invokes, outputs } = await runProgram(stackConfig('Pulumi.example-de-cluster.yaml'), 'lectern', 'example-de-cluster'));
  nodes = outputs.mediaNodes as Node[];
}, 60_000);

describe('example stack: Germany, three media nodes and Redis', () => {
  it('spreads three nodes over the three Frankfurt zones, each with its own address, private address and name', () => {
    expect(outputs.region).toBe('eu-central-1');
    expectPinnedProvider(resources, invokes, 'eu-central-1');
    expect(nodes.map((n) => [n.id, n.zone, n.privateAddress, n.signallingUrl])).toEqual([
      ['media-1', 'eu-central-1a', '10.42.1.10', 'https://media-1.lehre.example-universitaet.de'],
      ['media-2', 'eu-central-1b', '10.42.2.10', 'https://media-2.lehre.example-universitaet.de'],
      ['media-3', 'eu-central-1c', '10.42.3.10', 'https://media-3.lehre.example-universitaet.de'],
    ]);
    for (const node of nodes) {
      const instance = byName(`lectern-${node.id}-instance`);
      expect(instance.inputs.privateIp).toBe(node.privateAddress);
      const subnet = resources.find((r) => r.type === 'aws:ec2/subnet:Subnet' && r.id === instance.inputs.subnetId)!;
      expect(subnet.inputs.availabilityZone, node.id).toBe(node.zone);
      expect(subnet.inputs.cidrBlock, node.id).toBe(`${node.privateAddress.split('.').slice(0, 3).join('.')}.0/24`);
      expect(instance.inputs.metadataOptions.httpTokens).toBe('required');
      expect(instance.inputs.rootBlockDevice.encrypted).toBe(true);
      // Its own group and the nodes' shared one.
      expect(instance.inputs.vpcSecurityGroupIds).toEqual([`lectern-${node.id}-sg-id`, 'lectern-nodes-sg-id']);
    }
    expect(new Set(nodes.map((n) => n.publicIp)).size).toBe(3);
    const records = outputs.dnsRecords as Array<{ name: string; value: string }>;
    expect(records.filter((r) => r.name === 'lehre.example-universitaet.de').map((r) => r.value).sort()).toEqual(nodes.map((n) => n.publicIp).sort());
    for (const node of nodes) expect(records).toContainEqual({ name: new URL(node.signallingUrl).hostname, type: 'A', value: node.publicIp });
  });

  it('creates exactly the expected resources', () => {
    expect(inventory(resources)).toEqual({
      'pulumi:providers:aws': 1,
      'lectern:infra:Network': 1,
      'aws:ec2/vpc:Vpc': 1,
      'aws:ec2/subnet:Subnet': 6,
      'aws:ec2/internetGateway:InternetGateway': 1,
      'aws:ec2/routeTable:RouteTable': 2,
      'aws:ec2/routeTableAssociation:RouteTableAssociation': 6,
      'lectern:infra:PublicAddresses': 1,
      'aws:ec2/eip:Eip': 4,
      'lectern:infra:RegionalStore': 1,
      // The store's key, and the single-Region key that wraps recordings' data keys.
      'lectern:infra:RecordingKey': 1,
      'aws:kms/key:Key': 2,
      'aws:kms/alias:Alias': 2,
      'aws:s3/bucket:Bucket': 1,
      'aws:s3/bucketOwnershipControls:BucketOwnershipControls': 1,
      'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': 1,
      'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration': 1,
      'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration': 1,
      'aws:s3/bucketPolicy:BucketPolicy': 1,
      'aws:cloudwatch/logGroup:LogGroup': 1,
      // Host secrets in SSM: the TURN secret, the Redis AUTH token, the nodes' control key.
      'lectern:infra:TurnCredential': 3,
      'aws:ssm/parameter:Parameter': 3,
      'lectern:infra:HostRole': 1,
      'aws:iam/role:Role': 1,
      'aws:iam/rolePolicy:RolePolicy': 1,
      'aws:iam/instanceProfile:InstanceProfile': 1,
      'lectern:infra:HostFirewall': 5,
      'lectern:infra:CoordinationStore': 1,
      'aws:ec2/securityGroup:SecurityGroup': 6,
      'aws:elasticache/subnetGroup:SubnetGroup': 1,
      'aws:elasticache/replicationGroup:ReplicationGroup': 1,
      'lectern:infra:Host': 4,
      'aws:ec2/instance:Instance': 4,
      'aws:ec2/eipAssociation:EipAssociation': 4,
    });
  });

  it('keeps Redis in the region: TLS, encrypted at rest with the stack key, AUTH token as a secret, private subnets, no global datastore', () => {
    const redis = resources.find((r) => r.type === 'aws:elasticache/replicationGroup:ReplicationGroup')!;
    expect(redis.inputs.transitEncryptionEnabled).toBe(true);
    expect(redis.inputs.transitEncryptionMode).toBe('required');
    expect(redis.inputs.atRestEncryptionEnabled).toBe(true);
    expect(redis.inputs.kmsKeyId).toBe(resources.find((r) => r.type === 'aws:kms/key:Key' && r.name === 'lectern-store-key')!.arn);
    expect(redis.inputs.authToken).toEqual({ [SECRET_SIG_KEY]: '1b47061264138c4ac30d75fd1eb44270', value: REDIS_TOKEN });
    expect(redis.inputs.globalReplicationGroupId).toBeUndefined();
    expect(redis.inputs.snapshotArns).toBeUndefined();
    expect(redis.inputs.region).toBeUndefined();
    expect(redis.inputs.snapshotRetentionLimit).toBe(1);
    expect([redis.inputs.numCacheClusters, redis.inputs.automaticFailoverEnabled, redis.inputs.multiAzEnabled]).toEqual([2, true, true]);
    expect(redis.inputs.preferredCacheClusterAzs).toEqual(['eu-central-1a', 'eu-central-1b']);
    expect(redis.inputs.securityGroupIds).toEqual(['lectern-coordination-sg-id']);
    // The subnet group holds only the private subnets, whose route table has no route out of the VPC.
    const group = resources.find((r) => r.type === 'aws:elasticache/subnetGroup:SubnetGroup')!;
    expect(redis.inputs.subnetGroupName).toBe(`${group.name}-name`);
    const subnets = (group.inputs.subnetIds as string[]).map((id) => resources.find((r) => r.id === id)!);
    expect(subnets.map((s) => [s.name, s.inputs.cidrBlock, s.inputs.availabilityZone, s.inputs.mapPublicIpOnLaunch])).toEqual([
      ['lectern-private-1', '10.42.101.0/24', 'eu-central-1a', false],
      ['lectern-private-2', '10.42.102.0/24', 'eu-central-1b', false],
      ['lectern-private-3', '10.42.103.0/24', 'eu-central-1c', false],
    ]);
    const privateRoutes = byName('lectern-private-routes');
    expect(privateRoutes.inputs.routes).toEqual([]);
    const associations = resources.filter((r) => r.type === 'aws:ec2/routeTableAssociation:RouteTableAssociation' && subnets.some((s) => s.id === r.inputs.subnetId));
    expect(associations.map((a) => a.inputs.routeTableId)).toEqual(Array(3).fill(privateRoutes.id));
  });

  it('opens the pipes and the control port only between the nodes, and Redis only to them', () => {
    const nodesSg = byName('lectern-nodes-sg');
    expect(nodesSg.inputs.ingress).toEqual([
      { protocol: 'udp', fromPort: 44000, toPort: 44099, self: true, description: 'SRTP pipes between media nodes' },
      { protocol: 'tcp', fromPort: 7443, toPort: 7443, self: true, description: 'node-to-node control (pipe set-up)' },
      { protocol: 'tcp', fromPort: 80, toPort: 80, self: true, description: 'ACME challenges for the shared site name relayed between nodes' },
    ]);
    expect(nodesSg.inputs.egress).toEqual([]);
    const redisSg = byName('lectern-coordination-sg');
    expect(redisSg.inputs.ingress).toEqual([{ protocol: 'tcp', fromPort: 6379, toPort: 6379, securityGroups: [nodesSg.id], description: 'Redis (TLS) from the media nodes' }]);
    expect(redisSg.inputs.egress).toEqual([]);
    for (const node of nodes) {
      // What the world reaches on a node is what a single host opens: no pipe, control or Redis port.
      expect(ingressOf(byName(`lectern-${node.id}-sg`))).toEqual(
        ['tcp 80-80 from 0.0.0.0/0', 'tcp 443-443 from 0.0.0.0/0', 'udp 40000-40003 from 0.0.0.0/0', 'tcp 40000-40003 from 0.0.0.0/0'].sort(),
      );
    }
    // The TURN relay ports take traffic from the three nodes only.
    const relay = (byName('lectern-turn-sg').inputs.ingress as Array<{ fromPort: number; cidrBlocks: string[] }>).find((r) => r.fromPort === 49152)!;
    expect(relay.cidrBlocks.sort()).toEqual(nodes.map((n) => `${n.publicIp}/32`).sort());
  });

  it("writes each node's cluster section: its id, placement as the infra placed it, Redis over TLS with the token from a file, its private address", () => {
    for (const node of nodes) {
      const config = serverConfigOf(node.id);
      expect(config.cluster).toEqual({
        nodeId: node.id,
        redis: { url: 'rediss://master.lectern-coordination-redis.abc123.euc1.cache.amazonaws.com:6379', tls: true, passwordFile: '/run/lectern/redis-auth', keyPrefix: 'lectern:' },
        advertise: { signallingUrl: node.signallingUrl, privateAddress: node.privateAddress },
        placement: { country: 'DE', region: 'eu-central-1', zone: node.zone },
        internal: { host: node.privateAddress, port: 7443, secretFile: '/run/lectern/cluster-secret' },
        heartbeatSeconds: 2,
        ttlSeconds: 6,
        drainSeconds: 10,
      });
      expect(config.media.pipe).toEqual({ portMin: 44000, portMax: 44099 });
      expect(config.media.announcedAddress).toBe(node.publicIp);
      const doc = cloudConfig(userDataOf(resources, `lectern-${node.id}-instance`));
      const render = doc.write_files.find((f) => f.path === '/usr/local/sbin/lectern-render-config')!.content;
      expect(render).toContain('/usr/local/sbin/lectern-redis-auth > /run/lectern/redis-auth');
      expect(render).toContain('/usr/local/sbin/lectern-cluster-secret > /run/lectern/cluster-secret');
      expect(doc.write_files.find((f) => f.path === '/usr/local/sbin/lectern-cluster-secret')!.content).toContain("--region 'eu-central-1' --name '/lectern/example-de-cluster/cluster-secret'");
      expect(doc.write_files.find((f) => f.path === '/usr/local/sbin/lectern-redis-auth')!.content).toContain("--region 'eu-central-1' --name '/lectern/example-de-cluster/redis-auth-token'");
      // Its certificate covers the site's name and its own (the redirect target).
      expect(JSON.stringify(doc)).toContain(`-d 'lehre.example-universitaet.de' -d '${new URL(node.signallingUrl).hostname}'`);
    }
    const turnDoc = JSON.stringify(cloudConfig(userDataOf(resources, 'lectern-turn-instance')));
    for (const node of nodes) expect(turnDoc).toContain(`allowed-peer-ip=${node.publicIp}`);
  });

  it('lists for each node exactly its two peers and the Redis subnets, nothing wider; the TURN host reaches the three nodes', () => {
    const lists = outputs.egressDestinations as Record<string, EgressDestination[]>;
    expect(Object.keys(lists).sort()).toEqual(['media-1', 'media-2', 'media-3', 'turn']);
    for (const node of nodes) {
      const list = lists[node.id]!;
      const cluster = list.filter((d) => d.id.startsWith('peer-') || d.id.startsWith('coordination-'));
      const peers = nodes.filter((n) => n.id !== node.id);
      expect(cluster.map((d) => [d.id, d.protocol, d.target.kind === 'cidr' ? d.target.cidr : d.target.name, d.ports.length === 1 ? d.ports[0] : `${d.ports[0]}-${d.ports.at(-1)}`, d.users.join(), d.country])).toEqual([
        ['coordination-redis-1', 'tcp', '10.42.101.0/24', 6379, 'lectern', 'DE'],
        ['coordination-redis-2', 'tcp', '10.42.102.0/24', 6379, 'lectern', 'DE'],
        ['coordination-redis-3', 'tcp', '10.42.103.0/24', 6379, 'lectern', 'DE'],
        ...peers.flatMap((p) => [
          [`peer-${p.id}-pipes`, 'udp', `${p.privateAddress}/32`, '44000-44099', 'lectern', 'DE'],
          [`peer-${p.id}-control`, 'tcp', `${p.privateAddress}/32`, 7443, 'lectern', 'DE'],
          [`peer-${p.id}-acme`, 'tcp', `${p.privateAddress}/32`, 80, 'www-data', 'DE'],
        ]),
      ]);
      // The security group's egress is the list: no rule to anywhere on a cluster port.
      const egress = byName(`lectern-${node.id}-sg`).inputs.egress as Array<{ protocol: string; fromPort: number; cidrBlocks: string[] }>;
      for (const rule of egress.filter((r) => r.fromPort === 6379 || r.fromPort === 7443 || r.fromPort === 44000)) expect(rule.cidrBlocks, JSON.stringify(rule)).not.toContain('0.0.0.0/0');
      expect(egress.filter((r) => r.fromPort === 44000).map((r) => r.cidrBlocks[0]).sort()).toEqual(peers.map((p) => `${p.privateAddress}/32`).sort());
      // The host policy lets the lectern user reach the peers and Redis, nothing else new.
      const nft = cloudConfig(userDataOf(resources, `lectern-${node.id}-instance`)).write_files.find((f) => f.path === '/etc/lectern/egress.nft')!.content;
      for (const p of peers) expect(nft).toContain(`ip daddr ${p.privateAddress}/32 tcp dport 7443 accept`);
      expect(nft).not.toContain(`ip daddr ${node.privateAddress}/32`);
    }
    // The generated host policy with the peers and Redis in it is accepted by nft itself.
    const asRoot = process.getuid?.() === 0;
    for (const node of nodes) {
      const nft = cloudConfig(userDataOf(resources, `lectern-${node.id}-instance`)).write_files.find((f) => f.path === '/etc/lectern/egress.nft')!.content;
      execFileSync('unshare', [asRoot ? '-n' : '-rn', 'nft', '-c', '-f', '-'], { input: nft.replaceAll('skuid lectern', 'skuid 65534') });
    }
    expect(lists.turn!.filter((d) => d.id.startsWith('turn-to-sfu')).map((d) => d.target.kind === 'cidr' && d.target.cidr).sort()).toEqual(nodes.map((n) => `${n.publicIp}/32`).sort());
  });

  it('never holds either secret in plain text outside its SSM parameter', () => {
    for (const r of resources) {
      if (r.type === 'aws:ssm/parameter:Parameter') continue;
      const text = JSON.stringify(r.inputs);
      expect(text.includes(TURN_SECRET), `${r.name} leaks the TURN secret`).toBe(false);
      if (r.type !== 'aws:elasticache/replicationGroup:ReplicationGroup') expect(text.includes(REDIS_TOKEN), `${r.name} leaks the Redis token`).toBe(false);
      expect(text.includes(CLUSTER_SECRET), `${r.name} leaks the cluster secret`).toBe(false);
    }
    expect(JSON.stringify(byName('lectern-cluster-secret-parameter').inputs.value)).toContain(CLUSTER_SECRET);
    expect(byName('lectern-cluster-secret-parameter').inputs.type).toBe('SecureString');
    const token = byName('lectern-redis-token-parameter');
    expect(token.inputs.type).toBe('SecureString');
    expect(token.inputs.value).toEqual({ [SECRET_SIG_KEY]: '1b47061264138c4ac30d75fd1eb44270', value: REDIS_TOKEN });
    const policy = JSON.parse(String(byName('lectern-host-policy').inputs.policy)) as { Statement: Array<{ Action: string | string[]; Resource: unknown }> };
    expect(policy.Statement.find((s) => s.Action === 'ssm:GetParameter')!.Resource).toEqual([
      'arn:aws:mock:::lectern-turn-credential-parameter',
      'arn:aws:mock:::lectern-redis-token-parameter',
      'arn:aws:mock:::lectern-cluster-secret-parameter',
    ]);
  });

  it('reports the coordination store as a data location in Germany', () => {
    const locations = outputs.dataLocations as Array<{ what: string; country: string; inCountry: boolean; location: string; resource?: string }>;
    expect(locations.find((l) => l.what === 'cluster registry and room directory')).toEqual({
      what: 'cluster registry and room directory',
      service: 'elasticache',
      scope: 'region',
      location: 'eu-central-1',
      country: 'DE',
      inCountry: true,
      resource: 'master.lectern-coordination-redis.abc123.euc1.cache.amazonaws.com',
    });
  });

  it('fails the program at preview on an AUTH token ElastiCache would refuse, without printing it', async () => {
    const bad = 'short@token';
    const failure = await runProgram({ ...stackConfig('Pulumi.example-de-cluster.yaml'), 'lectern:redisAuthToken': bad }, 'lectern', 'example-de-cluster').then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(ProgramError);
    expect((failure as ProgramError).errors).toEqual([expect.stringContaining('lectern:redisAuthToken must be 16-128 printable ASCII characters')]);
    expect(String((failure as ProgramError).errors)).not.toContain(bad);
  });

  it('fails the program at preview on a control key the nodes would refuse (under 32 characters), without printing it', async () => {
    const bad = 'too-short-cluster-key';
    const failure = await runProgram({ ...stackConfig('Pulumi.example-de-cluster.yaml'), 'lectern:clusterSecret': bad }, 'lectern', 'example-de-cluster').then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(ProgramError);
    expect((failure as ProgramError).errors).toEqual([expect.stringContaining('lectern:clusterSecret must be at least 32 characters')]);
    expect(String((failure as ProgramError).errors)).not.toContain(bad);
  });

  it('passes every residency policy', async () => {
    await expectPoliciesPass(resources, 'DE');
  });

  it('the pack and the audit refuse the coordination store unencrypted at rest or in transit, with optional TLS, or with no AUTH token', async () => {
    const encryption = residencyResourcePolicies.find((p) => p.name === 'lectern-encryption-required')!;
    const variant = async (change: (inputs: Record<string, any>) => void): Promise<string[]> => {
      const graph = structuredClone(resources);
      change(graph.find((r) => r.type === 'aws:elasticache/replicationGroup:ReplicationGroup')!.inputs);
      return violations(encryption, graph, 'DE');
    };
    const prefix = '[lectern-encryption-required] aws:elasticache/replicationGroup:ReplicationGroup "lectern-coordination-redis": ';
    expect(await variant(() => {})).toEqual([]);
    expect(await variant((i) => (i.atRestEncryptionEnabled = false))).toEqual([`${prefix}not encrypted at rest`]);
    expect(await variant((i) => delete i.transitEncryptionEnabled)).toEqual([`${prefix}not encrypted in transit`]);
    expect(await variant((i) => (i.transitEncryptionMode = 'preferred'))).toEqual([`${prefix}transit encryption mode preferred lets clients in without TLS`]);
    expect(await variant((i) => delete i.authToken)).toEqual([`${prefix}no AUTH token or user group: any client that reaches it may read it`]);
    const base = { name: 'example-de-cluster', graph: resources, outputs, country: 'DE', packConfig: 'DE', config: await readAuditConfig('Pulumi.example-de-cluster.yaml'), home: 'eu-central-1', foreign: 'eu-west-1' };
    const audited = (change: (inputs: Record<string, any>) => void) => {
      const graph = structuredClone(resources);
      change(graph.find((r) => r.type === 'aws:elasticache/replicationGroup:ReplicationGroup')!.inputs);
      return auditGraph(base, graph);
    };
    expect(audited(() => {})).toEqual({ code: 0, failing: [] });
    for (const change of [(i: Record<string, any>) => (i.atRestEncryptionEnabled = false), (i: Record<string, any>) => (i.transitEncryptionEnabled = false), (i: Record<string, any>) => (i.transitEncryptionMode = 'preferred'), (i: Record<string, any>) => delete i.authToken]) {
      const result = audited(change);
      expect(result.code).not.toBe(0);
      expect(result.failing.map((f) => f.rule)).toEqual(['store-unprotected']);
    }
  });

  it('`lectern audit` of the stack export lists every node and the Redis with their country, in text and on the HTML map', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-cluster-audit-'));
    writeFileSync(join(dir, 'export.json'), JSON.stringify(exportOf({ name: 'example-de-cluster', outputs, home: 'eu-central-1' }, resources)));
    const run = async (format: string): Promise<{ code: number; out: string }> => {
      let out = '';
      const code = await main(['audit', '--config', 'Pulumi.example-de-cluster.yaml', '--stack-export', join(dir, 'export.json'), '--state-url', 's3://lectern-state?region=eu-central-1', '--format', format], (t) => (out += t), () => {});
      return { code, out };
    };
    const text = await run('text');
    expect(text.code, text.out).toBe(0);
    for (const node of nodes) {
      expect(text.out).toMatch(new RegExp(`✓ DE  Media \\(SFU\\) lectern-${node.id}-instance +${node.zone} \\(Frankfurt\\)`));
      expect(text.out).toMatch(new RegExp(`media +lectern-${node.id}-instance +${node.zone}`));
    }
    expect(text.out).toMatch(/✓ DE {2}Cluster coordination \(ElastiCache Redis lectern-coordination-redis\) +eu-central-1 \(Frankfurt\)/);
    const json = JSON.parse((await run('json')).out) as { model: { flows: Array<{ label: string; location: { country: string | null }; encryption: string }> } };
    const flows = json.model.flows;
    expect(flows.filter((f) => /^Media \(SFU\) lectern-media-\d-instance$/.test(f.label)).map((f) => f.location.country)).toEqual(['DE', 'DE', 'DE']);
    expect(flows.find((f) => f.label.startsWith('Cluster coordination'))!.encryption).toBe('TLS in transit; encrypted at rest');
    const html = (await run('html')).out;
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    for (const node of nodes) expect(svg).toContain(`lectern-${node.id}-instance`);
    expect(svg).toContain('lectern-coordination-redis');
  });
});
