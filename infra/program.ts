// config -> components -> outputs. Every AWS resource gets the one provider pinned to the placement's
// region; the stack also disables default providers, so a forgotten `provider` fails instead of
// landing in whatever region the operator's shell points at.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { findRegion, zonePlace, type DataLocation, type Caveat } from '../config/residency/index.js';
import { clusterNodeRules, egressRules, mediaHostRules, turnHostRules } from './firewall.js';
import { egressDestinations, type EgressDestination, type EgressInputs } from './egress/destinations.js';
import { privateSubnetCidr, type ClusterPlan, type DeploymentPlan, type NodePlan } from './plan.js';
import { CoordinationStore, checkedRedisToken } from './components/CoordinationStore.js';
import { redisTlsMaterial, type RedisTlsMaterial } from './tls/redisTls.js';
import { deployedServerConfig } from './server-config.js';
import { mediaHostUserData, type ClusterNodeUserData, type HostDataStore } from './userdata/media-host.js';
import { turnHostUserData } from './userdata/turn-host.js';
import type { CoturnSettings, SecretSource } from './userdata/cloud-config.js';
import { Network } from './components/Network.js';
import { HostFirewall } from './components/HostFirewall.js';
import { PublicAddresses } from './components/PublicAddresses.js';
import { TurnCredential } from './components/TurnCredential.js';
import { RegionalStore } from './components/RegionalStore.js';
import { ZoneStore } from './components/ZoneStore.js';
import { HostRole } from './components/HostRole.js';
import { RecordingKey } from './components/RecordingKey.js';
import { Host } from './components/Host.js';

/** A data location with the concrete resource holding it, for the audit. */
export interface LocatedData extends DataLocation {
  readonly resource?: pulumi.Output<string> | string | undefined;
}

/** The stack outputs the audit reads. */
export interface LecternOutputs {
  readonly url: string;
  readonly domain: string;
  readonly turnDomain: string;
  readonly sfuPublicIp: pulumi.Output<string>;
  readonly turnPublicIp: pulumi.Output<string>;
  /** A records the university must create in its own DNS (no Route 53: it is a global service). */
  readonly dnsRecords: pulumi.Output<Array<{ name: string; type: 'A'; value: string }>>;
  readonly country: string;
  readonly placementKind: string;
  readonly placementName: string;
  readonly region: string;
  readonly availabilityZone: string;
  readonly lecternVersion: string;
  readonly dataLocations: pulumi.Output<pulumi.Unwrap<LocatedData>[]>;
  readonly caveats: readonly Caveat[];
  /** Every destination each host may open a connection to (the audit lists them with their country). */
  readonly egressDestinations: pulumi.Output<Record<string, EgressDestination[]>>;
  /** A cluster's media nodes (absent for one host): id, zone, addresses, signalling URL. */
  readonly mediaNodes: pulumi.Output<Array<{ id: string; zone: string; publicIp: string; privateAddress: string; signallingUrl: string }>> | undefined;
  /** Pass to `pulumi preview --policy-pack ... --policy-pack-config`. */
  readonly policyPackConfig: { all: { country: string; acceptParentRegionControlPlane?: boolean } };
}

/** Build every resource of a Lectern deployment from a validated plan. */
export function buildLectern(plan: DeploymentPlan, turnSecret: pulumi.Output<string>, redisToken?: pulumi.Output<string>, clusterSecret?: pulumi.Output<string>): LecternOutputs {
  if (plan.cluster && !redisToken) throw new Error('a cluster needs the stack secret lectern:redisAuthToken (pulumi config set --secret lectern:redisAuthToken "$(openssl rand -hex 32)")');
  if (plan.cluster && !clusterSecret) throw new Error('a cluster needs the stack secret lectern:clusterSecret (pulumi config set --secret lectern:clusterSecret "$(openssl rand -hex 32)")');
  const { placement, deployment } = plan;
  const stack = pulumi.getStack();
  const provider = new aws.Provider('lectern-aws', {
    region: placement.providerRegion,
    // Tags are control-plane metadata (held in the provider region): no personal data in them.
    defaultTags: { tags: { 'lectern:stack': stack, 'lectern:country': placement.country } },
  });
  const separateTurn = deployment.turn.mode === 'separate';
  // Redis on a node (a Local Zone cluster) needs no private subnets: those are ElastiCache's.
  const hostRedis = plan.cluster?.coordination.kind === 'host' ? plan.cluster.coordination : undefined;
  const network = new Network('lectern', { placement, provider, ...(plan.cluster ? { cluster: { zones: plan.cluster.zones, privateSubnets: !hostRedis } } : {}) });
  const addresses = new PublicAddresses('lectern-ip', { placement, separateTurn, mediaNodes: plan.cluster?.nodes.map((n) => n.id), provider });
  const regional =
    placement.dataStore === 'regional-services'
      ? new RegionalStore('lectern-store', {
          region: placement.providerRegion,
          recordingsRetentionDays: deployment.storage.recordingsRetentionDays,
          logRetentionDays: deployment.storage.logRetentionDays,
          provider,
        })
      : undefined;
  const nodes = plan.cluster?.nodes ?? [undefined];
  // In a Local Zone every node keeps its recordings and logs on an encrypted volume of its own in the zone.
  const zoneStores =
    placement.dataStore === 'zone-volume' ? nodes.map((node, i) => new ZoneStore(i === 0 ? 'lectern-store' : `lectern-store-${node!.id}`, { placement, sizeGb: deployment.storage.dataVolumeGb, provider })) : [];
  const zoneStore = zoneStores[0];
  // Recordings' data keys: wrapped by the key the stack config names (checked in-country by the
  // plan), else by a single-Region key made here in a region placement; a Local Zone keeps the
  // host's key file (KMS there would be the parent region's, abroad).
  const givenKey = plan.config.recording.keyWrapping.kind === 'aws-kms' ? plan.config.recording.keyWrapping.keyArn : undefined;
  const madeKeyArn = givenKey === undefined && regional ? new RecordingKey('lectern-recording-key', { provider }).keyArn : undefined;
  const credential = new TurnCredential('lectern-turn-credential', { value: turnSecret, kmsKeyId: regional?.kmsKeyArn, provider });
  const redisCredential = plan.cluster && redisToken
    ? new TurnCredential('lectern-redis-token', { value: hostRedis ? redisToken.apply((t) => checkedRedisToken('lectern-redis-token', t)) : redisToken, kmsKeyId: regional?.kmsKeyArn, parameter: { suffix: 'redis-auth-token', description: 'Lectern cluster: the Redis AUTH token, read by the media nodes at boot' }, provider })
    : undefined;
  // The nodes' control-channel key: the server refuses one shorter than 32 characters, so does the plan.
  const clusterCredential = plan.cluster && clusterSecret
    ? new TurnCredential('lectern-cluster-secret', {
        value: clusterSecret.apply((value) => {
          if (value.length < 32 || /\s/.test(value)) throw new Error('lectern:clusterSecret must be at least 32 characters without spaces (e.g. openssl rand -hex 32)');
          return value;
        }),
        kmsKeyId: regional?.kmsKeyArn,
        parameter: { suffix: 'cluster-secret', description: 'Lectern cluster: the key the media nodes sign their control requests with, read at boot' },
        provider,
      })
    : undefined;
  // Redis on a node: the deployment's CA and that node's certificate, derived from the cluster secret;
  // the key goes the way of the other host secrets (SSM), the certificates are public.
  const redisTls: pulumi.Output<RedisTlsMaterial> | undefined = hostRedis && clusterSecret ? clusterSecret.apply((secret) => redisTlsMaterial(secret, hostRedis.privateAddress)) : undefined;
  const redisTlsKey = redisTls
    ? new TurnCredential('lectern-redis-tls-key', {
        value: redisTls.apply((m) => m.serverKeyPem),
        kmsKeyId: regional?.kmsKeyArn,
        parameter: { suffix: 'redis-tls-key', description: "Lectern cluster: the key of the Redis certificate, read at boot by the node that runs Redis" },
        provider,
      })
    : undefined;
  // The certificates are public (the CA's key is never kept): user-data carries them, not as a secret.
  const redisCerts = redisTls && pulumi.unsecret(redisTls.apply((m) => ({ caCertPem: m.caCertPem, serverCertPem: m.serverCertPem })));
  const role = new HostRole('lectern-host', {
    parameterArn: redisCredential && clusterCredential ? [credential.parameterArn, redisCredential.parameterArn, clusterCredential.parameterArn, ...(redisTlsKey ? [redisTlsKey.parameterArn] : [])] : credential.parameterArn,
    regional: regional && { bucketArn: regional.bucketArn, kmsKeyArn: regional.kmsKeyArn, logGroupArn: regional.logGroupArn },
    recordingKeyArn: givenKey ?? madeKeyArn,
    provider,
  });
  const sfuIp = addresses.media.publicIp;
  const nodeIps = addresses.medias.map((eip) => eip.publicIp);
  const turnIp = addresses.turn?.publicIp ?? sfuIp;
  const coturn = (publicAddress: string, sfuAddresses: readonly string[]): CoturnSettings => ({
    realm: plan.turnDomain,
    port: deployment.turn.port,
    tlsPort: deployment.turn.tlsPort,
    relayPortMin: deployment.turn.relayPortMin,
    relayPortMax: deployment.turn.relayPortMax,
    allowedPeers: sfuAddresses,
    publicAddress,
  });
  const secret = credential.parameterName.apply((parameterName): SecretSource => ({ parameterName, region: placement.providerRegion }));
  const dataStoreOf = (i: number): pulumi.Output<HostDataStore> => regional
    ? pulumi
        .all([regional.bucketName, regional.kmsKeyArn, regional.logGroupName])
        .apply(([bucket, kmsKeyArn, logGroup]) => ({
          kind: 'regional-services' as const,
          bucket,
          kmsKeyArn,
          logGroup,
          region: placement.providerRegion,
          logRetentionDays: deployment.storage.logRetentionDays,
        }))
    : zoneStores[i]!.volume.id.apply((volumeId) => ({
        kind: 'zone-volume' as const,
        volumeId,
        logRetentionDays: deployment.storage.logRetentionDays,
        recordingsRetentionDays: deployment.storage.recordingsRetentionDays,
      }));
  const coordination = plan.cluster && redisCredential ? clusterPieces(plan, plan.cluster, { network, provider, redisToken: redisToken!, kmsKeyArn: regional?.kmsKeyArn, parameterName: redisCredential.parameterName }) : undefined;
  const redisEndpoint: pulumi.Output<string> | string = coordination?.store?.endpoint ?? hostRedis?.privateAddress ?? '';
  // Where each host may open connections: one list for the security group, the host and the audit.
  const egressFor = (host: 'media' | 'turn', node: NodePlan | undefined, ip: pulumi.Output<string>): pulumi.Output<EgressDestination[]> =>
    pulumi.all([ip, pulumi.all(nodeIps), regional?.bucketName ?? '', redisEndpoint, madeKeyArn ?? '']).apply(([own, all, bucket, endpoint, keyArn]) =>
      egressDestinations(host, {
        serverConfig: deployedServerConfig(plan, { announcedAddress: own, recordingKeyArn: keyArn || undefined, ...(node && endpoint ? { clusterNode: { node, redisEndpoint: endpoint } } : {}) }),
        deployment,
        region: placement.providerRegion,
        sfuAddress: all[0]!,
        sfuAddresses: all,
        bucket: bucket || undefined,
        ...(node && plan.cluster
          ? {
              cluster: {
                peers: plan.cluster.nodes.filter((n) => n.id !== node.id).map((n) => ({ id: n.id, privateAddress: n.privateAddress })),
                internalPort: plan.cluster.internalPort,
                pipePorts: plan.cluster.pipePorts,
                redis: hostRedis
                  ? { endpoint, port: plan.cluster.redisPort, subnetCidrs: [`${hostRedis.privateAddress}/32`], onNode: hostRedis.nodeId }
                  : { endpoint, port: plan.cluster.redisPort, subnetCidrs: plan.cluster.zones.map((_, i) => privateSubnetCidr(i)) },
                country: placement.country,
                acmeRelayPort: 80,
              },
            }
          : {}),
      }),
    );
  const turnEgress = egressFor('turn', undefined, turnIp);
  const mediaEgressByNode: Array<[string, pulumi.Output<EgressDestination[]>]> = [];
  const mediaHosts = nodes.map((node, i) => {
    const ip = nodeIps[i]!;
    const name = node ? `lectern-${node.id}` : 'lectern-media';
    const egress = egressFor('media', node, ip);
    mediaEgressByNode.push([node?.id ?? 'media', egress]);
    const clusterSource = clusterCredential ? clusterCredential.parameterName.apply((parameterName): SecretSource => ({ parameterName, region: placement.providerRegion })) : secret;
    const clusterNode: pulumi.Output<ClusterNodeUserData> | undefined = node && coordination
      ? pulumi.all([coordination.secret, clusterSource, redisCerts ?? undefined, redisTlsKey?.parameterName ?? '']).apply(([redisSecret, clusterKey, tls, tlsKeyName]) => ({
          domain: node.domain,
          redisSecret,
          clusterSecret: clusterKey,
          peerAddresses: plan.cluster!.nodes.filter((n) => n.id !== node.id).map((n) => n.privateAddress),
          ...(hostRedis && tls
            ? {
                hostRedis: {
                  caCertPem: tls.caCertPem,
                  server:
                    node.id === hostRedis.nodeId
                      ? { privateAddress: hostRedis.privateAddress, port: plan.cluster!.redisPort, keyPrefix: plan.config.cluster?.redis?.keyPrefix ?? 'lectern:', serverCertPem: tls.serverCertPem, tlsKey: { parameterName: tlsKeyName, region: placement.providerRegion } }
                      : undefined,
                },
              }
            : {}),
        }))
      : undefined;
    const userData = pulumi.all([ip, secret, dataStoreOf(i), egress, redisEndpoint, madeKeyArn ?? '', clusterNode]).apply(([own, source, store, list, endpoint, keyArn, nodeData]) =>
      mediaHostUserData({
        deployment,
        serverConfig: deployedServerConfig(plan, { announcedAddress: own, recordingKeyArn: keyArn || undefined, ...(node ? { clusterNode: { node, redisEndpoint: endpoint } } : {}) }),
        secret: source,
        dataStore: store,
        coturn: separateTurn ? undefined : coturn(own, [own]),
        egress: list,
        ...(nodeData ? { clusterNode: nodeData } : {}),
      }),
    );
    const firewall = new HostFirewall(name, { vpcId: network.vpcId, rules: mediaHostRules(plan.config, deployment), egress: egress.apply(egressRules), sfuAddress: ip, provider });
    return new Host(name, {
      placement,
      instanceType: deployment.sfu.instanceType,
      rootVolumeGb: deployment.sfu.rootVolumeGb,
      subnetId: node ? network.subnetIds[node.zoneIndex]! : network.subnetId,
      securityGroupId: firewall.securityGroupId,
      ...(node && coordination ? { extraSecurityGroupIds: [coordination.nodesSecurityGroupId], availabilityZone: node.zone, privateIp: node.privateAddress } : {}),
      // The audit draws the registry where this host is.
      ...(node && hostRedis?.nodeId === node.id ? { tags: { 'lectern:coordination': 'redis' } } : {}),
      instanceProfileName: role.instanceProfileName,
      address: addresses.medias[i]!,
      userData,
      provider,
    });
  });
  const media = mediaHosts[0]!;
  // Each node writes its recordings and logs to its own volume in the zone.
  zoneStores.forEach((store, i) => store.attachTo(i === 0 ? 'lectern-store' : `lectern-store-${nodes[i]!.id}`, mediaHosts[i]!.instance));
  if (separateTurn) {
    const turnFirewall = new HostFirewall('lectern-turn', { vpcId: network.vpcId, rules: turnHostRules(deployment), egress: turnEgress.apply(egressRules), sfuAddress: nodeIps, provider });
    new Host('lectern-turn', {
      placement,
      instanceType: deployment.turn.instanceType,
      rootVolumeGb: 16,
      subnetId: network.subnetId,
      securityGroupId: turnFirewall.securityGroupId,
      instanceProfileName: role.instanceProfileName,
      address: addresses.turn!,
      userData: pulumi.all([turnIp, pulumi.all(nodeIps), secret, turnEgress]).apply(([own, sfus, source, egress]) =>
        turnHostUserData({ coturn: coturn(own, sfus), secret: source, acmeEmail: deployment.acmeEmail, egress }),
      ),
      provider,
    });
  }
  const resourceFor = (location: DataLocation): LocatedData['resource'] => {
    if (location.what === 'recordings') return regional?.bucketName ?? zoneStore?.volume.id;
    if (location.what === 'logs') return regional?.logGroupName ?? zoneStore?.volume.id;
    if (location.what === 'encryption keys') return regional?.kmsKeyArn ?? 'aws/ebs (AWS-managed)';
    if (location.what === 'TURN credential') return credential.parameterName;
    if (location.what === 'hosts') return media.instance.id;
    return undefined;
  };
  return {
    url: `https://${deployment.domain}`,
    domain: deployment.domain,
    turnDomain: plan.turnDomain,
    sfuPublicIp: sfuIp,
    turnPublicIp: turnIp,
    dnsRecords: pulumi.all([pulumi.all(nodeIps), turnIp]).apply(([ips, turn]) => {
      // Several nodes: the site's name on every node (any node redirects to a room's home), and each node's own name.
      const records = ips.map((value) => ({ name: deployment.domain, type: 'A' as const, value }));
      plan.cluster?.nodes.forEach((node, i) => records.push({ name: node.domain, type: 'A', value: ips[i]! }));
      if (plan.turnDomain !== deployment.domain) records.push({ name: plan.turnDomain, type: 'A', value: turn });
      return records;
    }),
    country: placement.country,
    placementKind: placement.kind,
    placementName: placement.name,
    region: placement.providerRegion,
    availabilityZone: placement.availabilityZone,
    lecternVersion: deployment.release.version,
    dataLocations: pulumi.output([
      ...placement.locations.map((location) => ({ ...location, resource: resourceFor(location) })),
      ...(coordination ? [{ ...coordination.location, resource: coordination.store?.endpoint ?? mediaHosts[plan.cluster!.nodes.findIndex((n) => n.id === hostRedis!.nodeId)]!.instance.id }] : []),
    ]),
    caveats: placement.caveats,
    egressDestinations: pulumi.all([pulumi.all(mediaEgressByNode.map(([, list]) => list)), turnEgress]).apply(([lists, t]): Record<string, EgressDestination[]> => ({
      ...Object.fromEntries(mediaEgressByNode.map(([id], i) => [id, lists[i] as EgressDestination[]])),
      turn: separateTurn ? (t as EgressDestination[]) : [],
    })),
    mediaNodes: plan.cluster && pulumi.all(nodeIps).apply((ips) =>
      (plan.cluster?.nodes ?? []).map((node, i) => ({ id: node.id, zone: node.zone, publicIp: ips[i]!, privateAddress: node.privateAddress, signallingUrl: `https://${node.domain}` })),
    ),
    // A Local Zone's control plane in the parent region is accepted by the stack config; the pack is told so.
    policyPackConfig: { all: { country: placement.country, ...(placement.kind === 'local-zone' ? { acceptParentRegionControlPlane: true } : {}) } },
  };
}

/**
 * A cluster's shared pieces: the nodes' security group, the coordination store (the in-region
 * ElastiCache, or nothing to build when Redis runs on a node), its data location, the token's source.
 */
function clusterPieces(
  plan: DeploymentPlan,
  cluster: ClusterPlan,
  at: { network: Network; provider: aws.Provider; redisToken: pulumi.Output<string>; kmsKeyArn: pulumi.Input<string> | undefined; parameterName: pulumi.Output<string> },
): { store: CoordinationStore | undefined; nodesSecurityGroupId: pulumi.Output<string>; location: DataLocation; secret: pulumi.Output<SecretSource> } {
  const { placement, deployment } = plan;
  // Opens the pipes, the control port, the ACME relay (and Redis on a node) between members only; all egress stays on each node's own group.
  const nodes = new HostFirewall('lectern-nodes', { vpcId: at.network.vpcId, rules: clusterNodeRules(cluster), egress: [], sfuAddress: [], description: 'Lectern media nodes: pipes and control between the nodes only', provider: at.provider });
  const secret = at.parameterName.apply((parameterName) => ({ parameterName, region: placement.providerRegion }));
  const coordination = cluster.coordination;
  if (coordination.kind === 'host') {
    const country = zonePlace(coordination.zone, 'the coordination store zone').country ?? 'not established';
    const location: DataLocation = { what: 'cluster registry and room directory', service: 'ec2', scope: 'zone', location: coordination.zone, country, inCountry: country === placement.country };
    return { store: undefined, nodesSecurityGroupId: nodes.securityGroupId, location, secret };
  }
  const store = new CoordinationStore('lectern-coordination', {
    vpcId: at.network.vpcId,
    subnetIds: at.network.privateSubnetIds,
    zones: cluster.zones,
    nodesSecurityGroupId: nodes.securityGroupId,
    port: cluster.redisPort,
    nodeType: deployment.coordination.nodeType,
    replicas: deployment.coordination.replicas,
    snapshotRetentionDays: deployment.coordination.snapshotRetentionDays,
    authToken: at.redisToken,
    kmsKeyArn: at.kmsKeyArn,
    provider: at.provider,
  });
  const country = findRegion(coordination.region)?.country ?? 'not established';
  const location: DataLocation = { what: 'cluster registry and room directory', service: 'elasticache', scope: 'region', location: coordination.region, country, inCountry: country === placement.country };
  return { store, nodesSecurityGroupId: nodes.securityGroupId, location, secret };
}
