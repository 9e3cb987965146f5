// Denmark, a university across hosts: three media nodes in the Copenhagen Local Zone (parent region
// Stockholm, Sweden). No managed Redis is in the country, so Redis runs on media-1, on its private
// address, TLS with the deployment's own CA, nothing persisted; a separate TURN host in the zone.
// Proven here under Pulumi mocks (the graph, the user-data, the pack, the audit); Redis with these
// files for real is tests/infra/redis-host.test.ts, the ACME relay tests/infra/acme-relay.test.ts.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LecternConfig } from '../../config/index.js';
import { main } from '../../audit/cli.js';
import { auditGraph, exportOf, packGraph, type SweepBase } from '../audit/helpers/sweep.js';
import { readAuditConfig } from '../../audit/sources/configFile.js';
import type { EgressDestination } from '../../infra/egress/destinations.js';
import { placementRefusal } from '../../server/cluster/residency.js';
import { createCoordinator } from '../../server/cluster/createCoordinator.js';
import { RedisCoordinator } from '../../server/cluster/RedisCoordinator.js';
import { redisTlsMaterial } from '../../infra/tls/redisTls.js';
import { CLUSTER_SECRET, ProgramError, REDIS_TOKEN, TURN_SECRET, runProgram, stackConfig, type Invoked, type Recorded } from './support/harness.js';
import { cloudConfig, expectPinnedProvider, expectPoliciesPass, ingressOf, inventory, userDataOf } from './support/checks.js';

const STACK = 'example-dk-cluster';
const FILE = `Pulumi.${STACK}.yaml`;
const ZONE = 'eu-north-1-cph-1a';
const DOMAIN = 'video.example-university.dk';
let resources: Recorded[];
let invokes: Invoked[];
let outputs: Record<string, unknown>;
type Node = { id: string; zone: string; publicIp: string; privateAddress: string; signallingUrl: string };
let nodes: Node[];
let packConfig: { country: string; acceptParentRegionControlPlane?: boolean };

const byName = (name: string): Recorded => {
  const found = resources.find((r) => r.name === name);
  expect(found, name).toBeDefined();
  return found!;
};
const docOf = (node: string) => cloudConfig(userDataOf(resources, `lectern-${node}-instance`));
const fileOf = (node: string, path: string): string | undefined => docOf(node).write_files.find((f) => f.path === path)?.content;
const serverConfigOf = (node: string): LecternConfig => parseConfig(JSON.parse(fileOf(node, '/etc/lectern/config.base.json')!));

beforeAll(async () => {
  ({ resources, invokes, outputs } = await runProgram(stackConfig(FILE), 'lectern', STACK));
  nodes = outputs.mediaNodes as Node[];
  packConfig = (outputs.policyPackConfig as { all: typeof packConfig }).all;
}, 60_000);

describe('example stack: Denmark, three media nodes in the Copenhagen Local Zone, Redis on media-1', () => {
  it('puts three nodes in the Copenhagen zone with the provider pinned to the parent region, each with its address, private address and name', () => {
    expect([outputs.region, outputs.placementName, outputs.country]).toEqual(['eu-north-1', ZONE, 'DK']);
    expectPinnedProvider(resources, invokes, 'eu-north-1');
    expect(nodes.map((n) => [n.id, n.zone, n.privateAddress, n.signallingUrl])).toEqual([
      ['media-1', ZONE, '10.42.1.10', `https://media-1.${DOMAIN}`],
      ['media-2', ZONE, '10.42.1.11', `https://media-2.${DOMAIN}`],
      ['media-3', ZONE, '10.42.1.12', `https://media-3.${DOMAIN}`],
    ]);
    const subnet = byName('lectern-subnet');
    expect([subnet.inputs.availabilityZone, subnet.inputs.cidrBlock]).toEqual([ZONE, '10.42.1.0/24']);
    for (const node of nodes) {
      const instance = byName(`lectern-${node.id}-instance`);
      expect([instance.inputs.privateIp, instance.inputs.subnetId, instance.inputs.rootBlockDevice.encrypted, instance.inputs.metadataOptions.httpTokens]).toEqual([node.privateAddress, subnet.id, true, 'required']);
      expect(instance.inputs.vpcSecurityGroupIds).toEqual([`lectern-${node.id}-sg-id`, 'lectern-nodes-sg-id']);
    }
    expect(byName('lectern-turn-instance').inputs.subnetId).toBe(subnet.id);
    const records = outputs.dnsRecords as Array<{ name: string; value: string }>;
    expect(records.filter((r) => r.name === DOMAIN).map((r) => r.value).sort()).toEqual(nodes.map((n) => n.publicIp).sort());
    for (const node of nodes) expect(records).toContainEqual({ name: `${node.id}.${DOMAIN}`, type: 'A', value: node.publicIp });
  });

  it('creates exactly the expected resources: no ElastiCache, no private subnets, no S3, KMS key or log group (all would be in Sweden)', () => {
    expect(inventory(resources)).toEqual({
      'pulumi:providers:aws': 1,
      'lectern:infra:Network': 1,
      'aws:ec2/availabilityZoneGroup:AvailabilityZoneGroup': 1,
      'aws:ec2/vpc:Vpc': 1,
      'aws:ec2/subnet:Subnet': 1,
      'aws:ec2/internetGateway:InternetGateway': 1,
      'aws:ec2/routeTable:RouteTable': 1,
      'aws:ec2/routeTableAssociation:RouteTableAssociation': 1,
      'lectern:infra:PublicAddresses': 1,
      'aws:ec2/eip:Eip': 4,
      // Each node's recordings and logs on its own encrypted volume in the zone.
      'lectern:infra:ZoneStore': 3,
      'aws:ebs/volume:Volume': 3,
      'aws:ec2/volumeAttachment:VolumeAttachment': 3,
      // Host secrets in SSM: TURN secret, Redis password, control key, the Redis host's TLS key.
      'lectern:infra:TurnCredential': 4,
      'aws:ssm/parameter:Parameter': 4,
      'lectern:infra:HostRole': 1,
      'aws:iam/role:Role': 1,
      'aws:iam/rolePolicy:RolePolicy': 1,
      'aws:iam/instanceProfile:InstanceProfile': 1,
      'lectern:infra:HostFirewall': 5,
      'aws:ec2/securityGroup:SecurityGroup': 5,
      'lectern:infra:Host': 4,
      'aws:ec2/instance:Instance': 4,
      'aws:ec2/eipAssociation:EipAssociation': 4,
    });
    // Every node attaches its own volume, all three in the zone, encrypted.
    const volumes = resources.filter((r) => r.type === 'aws:ebs/volume:Volume');
    expect(volumes.map((v) => [v.inputs.availabilityZone, v.inputs.encrypted])).toEqual(Array(3).fill([ZONE, true]));
    const attachments = resources.filter((r) => r.type === 'aws:ec2/volumeAttachment:VolumeAttachment');
    expect(attachments.map((a) => a.inputs.instanceId).sort()).toEqual(nodes.map((n) => byName(`lectern-${n.id}-instance`).id).sort());
    expect(new Set(attachments.map((a) => a.inputs.volumeId)).size).toBe(3);
    for (const node of nodes) expect(fileOf(node.id, '/usr/local/sbin/lectern-mount-data')).toContain(`nvme-Amazon_Elastic_Block_Store_${String(attachments.find((a) => a.inputs.instanceId === byName(`lectern-${node.id}-instance`).id)!.inputs.volumeId).replace('-', '')}`);
  });

  it('runs Redis on media-1 only: bound to its private address, TLS only, nothing persisted, its certificate from the CA every node trusts', () => {
    const conf = fileOf('media-1', '/etc/lectern/redis/redis.conf')!;
    for (const line of ['bind 10.42.1.10', 'port 0', 'tls-port 6379', 'tls-cert-file /etc/lectern/redis/server.pem', 'tls-key-file /run/lectern-redis/server.key', 'tls-auth-clients no', 'save ""', 'appendonly no', 'dir /var/lib/lectern-redis', 'include /run/lectern-redis/acl.conf']) {
      expect(conf.split('\n'), line).toContain(line);
    }
    expect(docOf('media-1').packages).toContain('redis-server');
    expect(docOf('media-1').runcmd).toContainEqual(['systemctl', 'enable', '--now', 'lectern-redis.service']);
    expect(fileOf('media-1', '/usr/local/sbin/lectern-redis-tls-key')).toContain(`--region 'eu-north-1' --name '/lectern/${STACK}/redis-tls-key'`);
    const render = fileOf('media-1', '/usr/local/sbin/lectern-redis-render')!;
    expect(render).toContain('/usr/local/sbin/lectern-redis-tls-key > /run/lectern-redis/server.key');
    expect(render).toContain("printf 'user default on >%s resetkeys ~lectern:* &* +@all -@dangerous +info\\n' \"$password\" > /run/lectern-redis/acl.conf");
    execFileSync('bash', ['-n'], { input: render });
    const server = new X509Certificate(fileOf('media-1', '/etc/lectern/redis/server.pem')!);
    expect(server.subjectAltName).toBe('IP Address:10.42.1.10');
    // The certificates are the ones the cluster secret derives, and public: user-data is not a secret.
    const derived = redisTlsMaterial(CLUSTER_SECRET, '10.42.1.10');
    expect(fileOf('media-1', '/etc/lectern/redis/server.pem')).toBe(derived.serverCertPem);
    for (const node of nodes) {
      const ca = new X509Certificate(fileOf(node.id, '/etc/lectern/redis-ca.pem')!);
      expect(ca.ca && server.checkIssued(ca) && server.verify(ca.publicKey), node.id).toBe(true);
      if (node.id === 'media-1') continue;
      expect(fileOf(node.id, '/etc/lectern/redis/redis.conf'), node.id).toBeUndefined();
      expect(docOf(node.id).packages, node.id).not.toContain('redis-server');
    }
    expect(typeof byName('lectern-media-1-instance').inputs.userData).toBe('string');
    expect(byName('lectern-media-1-instance').inputs.tags).toEqual({ 'lectern:coordination': 'redis' });
    expect(byName('lectern-media-2-instance').inputs.tags).toBeUndefined();
  });

  it("writes each node's cluster section: Redis on media-1 over TLS with the CA file and the password file, the zone as placement (no Swedish region)", () => {
    for (const node of nodes) {
      const config = serverConfigOf(node.id);
      expect(config.cluster).toEqual({
        nodeId: node.id,
        redis: { url: 'rediss://10.42.1.10:6379', tls: true, passwordFile: '/run/lectern/redis-auth', caFile: '/etc/lectern/redis-ca.pem', keyPrefix: 'lectern:' },
        advertise: { signallingUrl: node.signallingUrl, privateAddress: node.privateAddress },
        placement: { country: 'DK', zone: ZONE },
        internal: { host: node.privateAddress, port: 7443, secretFile: '/run/lectern/cluster-secret' },
        heartbeatSeconds: 2,
        ttlSeconds: 6,
        drainSeconds: 10,
      });
      // The registry's own rule accepts it; the same node naming the parent region would be refused.
      expect(placementRefusal(config.cluster!.placement, 'DK')).toBeUndefined();
      expect(placementRefusal({ ...config.cluster!.placement, region: 'eu-north-1' }, 'DK')).toMatch(/eu-north-1 is in SE/);
      expect(config.deployment?.country).toBe('DK');
      expect(config.recording.keyWrapping.kind).not.toBe('aws-kms');
      // Its certificate covers the site's name and its own; nginx asks the two peers for the shared name's challenges.
      expect(JSON.stringify(docOf(node.id))).toContain(`-d '${DOMAIN}' -d '${node.id}.${DOMAIN}'`);
      const http = fileOf(node.id, '/etc/nginx/sites-available/lectern-http')!;
      expect(http.split('\n').filter((l) => l.includes('max_fails=0'))).toEqual(nodes.filter((n) => n.id !== node.id).map((n) => `  server ${n.privateAddress}:80 max_fails=0;`));
    }
  });

  it("passes the server's own start-up checks with the CA file its user-data writes (createCoordinator); a non-CA file there is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-dk-node-'));
    const password = join(dir, 'redis-auth');
    writeFileSync(password, `${REDIS_TOKEN}\n`);
    for (const node of nodes) {
      const written = serverConfigOf(node.id);
      // The host writes these at boot; files of our own stand in for /run/lectern/redis-auth and /etc/lectern/redis-ca.pem.
      const ca = join(dir, `${node.id}-ca.pem`);
      writeFileSync(ca, fileOf(node.id, '/etc/lectern/redis-ca.pem')!);
      const config = { ...written, cluster: { ...written.cluster!, redis: { ...written.cluster!.redis!, passwordFile: password, caFile: ca } } };
      expect(createCoordinator(config), node.id).toBeInstanceOf(RedisCoordinator);
      // The Redis host's own certificate is no CA: naming it instead is refused at start-up.
      writeFileSync(ca, fileOf('media-1', '/etc/lectern/redis/server.pem')!);
      expect(() => createCoordinator(config)).toThrow(/cluster.redis.caFile: .* is not a CA certificate/);
    }
  });

  it('opens the pipes, the control port, the ACME relay and Redis only between the nodes; the world reaches what a single host opens', () => {
    const nodesSg = byName('lectern-nodes-sg');
    expect(nodesSg.inputs.ingress).toEqual([
      { protocol: 'udp', fromPort: 44000, toPort: 44099, self: true, description: 'SRTP pipes between media nodes' },
      { protocol: 'tcp', fromPort: 7443, toPort: 7443, self: true, description: 'node-to-node control (pipe set-up)' },
      { protocol: 'tcp', fromPort: 80, toPort: 80, self: true, description: 'ACME challenges for the shared site name relayed between nodes' },
      { protocol: 'tcp', fromPort: 6379, toPort: 6379, self: true, description: 'Redis (TLS) on media-1, from the nodes only' },
    ]);
    expect(nodesSg.inputs.egress).toEqual([]);
    for (const node of nodes) {
      expect(ingressOf(byName(`lectern-${node.id}-sg`))).toEqual(['tcp 80-80 from 0.0.0.0/0', 'tcp 443-443 from 0.0.0.0/0', 'udp 40000-40003 from 0.0.0.0/0', 'tcp 40000-40003 from 0.0.0.0/0'].sort());
    }
  });

  it('lists for each node Redis on media-1 and its two peers, all in Denmark, nothing wider; the host policy is accepted by nft', () => {
    const lists = outputs.egressDestinations as Record<string, EgressDestination[]>;
    expect(Object.keys(lists).sort()).toEqual(['media-1', 'media-2', 'media-3', 'turn']);
    for (const node of nodes) {
      const cluster = lists[node.id]!.filter((d) => d.id.startsWith('peer-') || d.id.startsWith('coordination-'));
      const peers = nodes.filter((n) => n.id !== node.id);
      expect(cluster.map((d) => [d.id, d.protocol, d.target.kind === 'cidr' ? d.target.cidr : d.target.name, d.ports.length === 1 ? d.ports[0] : `${d.ports[0]}-${d.ports.at(-1)}`, d.users.join(), d.country])).toEqual([
        ['coordination-redis', 'tcp', '10.42.1.10/32', 6379, 'lectern', 'DK'],
        ...peers.flatMap((p) => [
          [`peer-${p.id}-pipes`, 'udp', `${p.privateAddress}/32`, '44000-44099', 'lectern', 'DK'],
          [`peer-${p.id}-control`, 'tcp', `${p.privateAddress}/32`, 7443, 'lectern', 'DK'],
          [`peer-${p.id}-acme`, 'tcp', `${p.privateAddress}/32`, 80, 'www-data', 'DK'],
        ]),
      ]);
      const egress = byName(`lectern-${node.id}-sg`).inputs.egress as Array<{ protocol: string; fromPort: number; cidrBlocks: string[] }>;
      expect(egress.filter((r) => r.fromPort === 6379).map((r) => r.cidrBlocks)).toEqual([['10.42.1.10/32']]);
      const nft = fileOf(node.id, '/etc/lectern/egress.nft')!;
      expect(nft).toContain('ip daddr 10.42.1.10/32 tcp dport 6379 accept');
      const asRoot = process.getuid?.() === 0;
      execFileSync('unshare', [asRoot ? '-n' : '-rn', 'nft', '-c', '-f', '-'], { input: nft.replaceAll('skuid lectern', 'skuid 65534') });
    }
    // The AWS services the hosts call are in Sweden, and said so.
    expect(lists['media-2']!.find((d) => d.id === 'aws-ssm')!.country).toBe('SE');
  });

  it('never holds a secret in plain text outside its SSM parameter, the TLS key included', () => {
    const key = redisTlsMaterial(CLUSTER_SECRET, '10.42.1.10').serverKeyPem;
    for (const r of resources) {
      if (r.type === 'aws:ssm/parameter:Parameter') continue;
      const text = JSON.stringify(r.inputs);
      for (const [what, secret] of [['TURN secret', TURN_SECRET], ['Redis token', REDIS_TOKEN], ['cluster secret', CLUSTER_SECRET], ['Redis TLS key', key.split('\n')[1]!]] as const) {
        expect(text.includes(secret), `${r.name} leaks the ${what}`).toBe(false);
      }
    }
    const tlsKey = byName('lectern-redis-tls-key-parameter');
    expect(tlsKey.inputs.type).toBe('SecureString');
    expect(JSON.stringify(tlsKey.inputs.value)).toContain(key.split('\n')[1]!);
    const policy = JSON.parse(String(byName('lectern-host-policy').inputs.policy)) as { Statement: Array<{ Action: string | string[]; Resource: unknown }> };
    expect(policy.Statement.find((s) => s.Action === 'ssm:GetParameter')!.Resource).toEqual([
      'arn:aws:mock:::lectern-turn-credential-parameter',
      'arn:aws:mock:::lectern-redis-token-parameter',
      'arn:aws:mock:::lectern-cluster-secret-parameter',
      'arn:aws:mock:::lectern-redis-tls-key-parameter',
    ]);
  });

  it('reports the coordination store as a data location in Denmark, on media-1', () => {
    const locations = outputs.dataLocations as Array<{ what: string }>;
    expect(locations.find((l) => l.what === 'cluster registry and room directory')).toEqual({
      what: 'cluster registry and room directory',
      service: 'ec2',
      scope: 'zone',
      location: ZONE,
      country: 'DK',
      inCountry: true,
      resource: byName('lectern-media-1-instance').id,
    });
  });

  it('fails the program at preview on a Redis password that cannot be one ACL word, without printing it', async () => {
    const bad = 'has a space in it!';
    const failure = await runProgram({ ...stackConfig(FILE), 'lectern:redisAuthToken': bad }, 'lectern', STACK).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(ProgramError);
    expect((failure as ProgramError).errors).toEqual([expect.stringContaining('lectern:redisAuthToken must be 16-128 printable ASCII characters')]);
    expect(String((failure as ProgramError).errors)).not.toContain(bad);
  });

  it('passes every residency policy (control plane in Sweden accepted)', async () => {
    expect(packConfig).toEqual({ country: 'DK', acceptParentRegionControlPlane: true });
    await expectPoliciesPass(resources, packConfig);
  });

  it('the pack and the audit refuse moving the store abroad: ElastiCache in the parent region, media-1 there, or a snapshot of its volume there', async () => {
    const base: SweepBase = { name: STACK, graph: resources, outputs, country: 'DK', packConfig, config: await readAuditConfig(FILE), home: 'eu-north-1', foreign: 'eu-central-1', parent: 'eu-north-1' };
    expect(auditGraph(base, resources)).toEqual({ code: 0, failing: [] });
    const pinned = resources.find((r) => r.type === 'pulumi:providers:aws')!;
    const added = (type: string, name: string, inputs: Record<string, unknown>): Recorded[] => [
      ...structuredClone(resources),
      { type, name, inputs, provider: `${pinned.urn}::${pinned.id}`, id: `${name}-id`, urn: `urn:pulumi:${STACK}::lectern::${type}::${name}` },
    ];
    const media1 = byName('lectern-media-1-instance');
    const volume = resources.find((r) => r.type === 'aws:ebs/volume:Volume')!;
    const variants: Array<[string, Recorded[]]> = [
      // The managed Redis a region would have: ElastiCache here is the parent region's, in Sweden.
      ['registry-in-sweden', added('aws:elasticache/replicationGroup:ReplicationGroup', 'registry-in-sweden', { description: 'registry', engine: 'redis', nodeType: 'cache.t4g.small', numCacheClusters: 1, transitEncryptionEnabled: true, transitEncryptionMode: 'required', atRestEncryptionEnabled: true, authToken: 'x'.repeat(32) })],
      // A snapshot of the Redis host's volume: without an in-zone location it is stored in the parent region.
      ['redis-host-snapshot', added('aws:ebs/snapshot:Snapshot', 'redis-host-snapshot', { volumeId: volume.id })],
      // Daily snapshots of the Redis host by DLM: its snapshots go to the parent region too.
      ['redis-host-backups', added('aws:dlm/lifecyclePolicy:LifecyclePolicy', 'redis-host-backups', { description: 'daily', executionRoleArn: 'arn:aws:iam::123456789012:role/dlm', state: 'ENABLED', policyDetails: { resourceTypes: ['INSTANCE'], targetTags: { 'lectern:coordination': 'redis' }, schedules: [{ name: 'daily', createRule: { interval: 24 } }] } })],
      [media1.name, resources.map((r) => (r.name === media1.name ? { ...structuredClone(r), inputs: { ...structuredClone(r.inputs), availabilityZone: 'eu-north-1a' } } : structuredClone(r)))],
    ];
    for (const [name, graph] of variants) {
      const audited = auditGraph(base, graph);
      expect(audited.code, name).not.toBe(0);
      expect(audited.failing.some((f) => f.text.includes(name)), `${name}: ${JSON.stringify(audited.failing)}`).toBe(true);
      const refused = await packGraph(base, graph);
      expect(refused.some((m) => m.includes(`"${name}"`)), `${name}: ${JSON.stringify(refused)}`).toBe(true);
    }
    // The same DLM policy keeping its snapshots in the zone moves nothing abroad: neither refuses it.
    const inZone = added('aws:dlm/lifecyclePolicy:LifecyclePolicy', 'redis-host-zone-backups', { description: 'daily', executionRoleArn: 'arn:aws:iam::123456789012:role/dlm', state: 'ENABLED', policyDetails: { resourceTypes: ['INSTANCE'], targetTags: { 'lectern:coordination': 'redis' }, schedules: [{ name: 'daily', createRule: { interval: 24, location: 'LOCAL_ZONE' } }] } });
    expect(await packGraph(base, inZone)).toEqual([]);
    expect(auditGraph(base, inZone)).toEqual({ code: 0, failing: [] });
  });

  it('`lectern audit` of the stack export lists every node and the Redis on media-1 in Denmark, in text and on the HTML map', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-dk-cluster-audit-'));
    writeFileSync(join(dir, 'export.json'), JSON.stringify(exportOf({ name: STACK, outputs, home: 'eu-north-1' }, resources)));
    const run = async (format: string): Promise<{ code: number; out: string }> => {
      let out = '';
      const code = await main(['audit', '--config', FILE, '--stack-export', join(dir, 'export.json'), '--state-url', 's3://lectern-state?region=eu-north-1', '--format', format], (t) => (out += t), () => {});
      return { code, out };
    };
    const text = await run('text');
    expect(text.code, text.out).toBe(0);
    for (const node of nodes) expect(text.out).toMatch(new RegExp(`✓ DK  Media \\(SFU\\) lectern-${node.id}-instance +${ZONE}`));
    expect(text.out).toMatch(new RegExp(`✓ DK {2}Cluster coordination \\(Redis on media host lectern-media-1-instance\\) +${ZONE}`));
    const json = JSON.parse((await run('json')).out) as { model: { flows: Array<{ label: string; location: { country: string | null }; encryption: string }> } };
    const store = json.model.flows.find((f) => f.label.startsWith('Cluster coordination'))!;
    expect([store.location.country, store.encryption]).toEqual(['DK', "TLS in transit (the deployment's CA); in memory only, never written to disk; host volume encrypted"]);
    const html = (await run('html')).out;
    expect(html.slice(html.indexOf('<svg'), html.indexOf('</svg>'))).toContain('lectern-media-1-instance');
  });
});
