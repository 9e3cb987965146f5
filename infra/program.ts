// config -> components -> outputs. Every AWS resource gets the one provider pinned to the placement's
// region; the stack also disables default providers, so a forgotten `provider` fails instead of
// landing in whatever region the operator's shell points at.
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { DataLocation, Caveat } from '../config/residency/index.js';
import { egressRules, mediaHostRules, turnHostRules } from './firewall.js';
import { egressDestinations, type EgressDestination, type EgressInputs } from './egress/destinations.js';
import type { DeploymentPlan } from './plan.js';
import { deployedServerConfig } from './server-config.js';
import { mediaHostUserData, type HostDataStore } from './userdata/media-host.js';
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
  readonly egressDestinations: pulumi.Output<{ media: EgressDestination[]; turn: EgressDestination[] }>;
  /** Pass to `pulumi preview --policy-pack ... --policy-pack-config`. */
  readonly policyPackConfig: { all: { country: string; acceptParentRegionControlPlane?: boolean } };
}

/** Build every resource of a Lectern deployment from a validated plan. */
export function buildLectern(plan: DeploymentPlan, turnSecret: pulumi.Output<string>): LecternOutputs {
  const { placement, deployment } = plan;
  const stack = pulumi.getStack();
  const provider = new aws.Provider('lectern-aws', {
    region: placement.providerRegion,
    // Tags are control-plane metadata (held in the provider region): no personal data in them.
    defaultTags: { tags: { 'lectern:stack': stack, 'lectern:country': placement.country } },
  });
  const separateTurn = deployment.turn.mode === 'separate';
  const network = new Network('lectern', { placement, provider });
  const addresses = new PublicAddresses('lectern-ip', { placement, separateTurn, provider });
  const regional =
    placement.dataStore === 'regional-services'
      ? new RegionalStore('lectern-store', {
          region: placement.providerRegion,
          recordingsRetentionDays: deployment.storage.recordingsRetentionDays,
          logRetentionDays: deployment.storage.logRetentionDays,
          provider,
        })
      : undefined;
  const zoneStore =
    placement.dataStore === 'zone-volume' ? new ZoneStore('lectern-store', { placement, sizeGb: deployment.storage.dataVolumeGb, provider }) : undefined;
  // Recordings' data keys: wrapped by the key the stack config names (checked in-country by the
  // plan), else by a single-Region key made here in a region placement; a Local Zone keeps the
  // host's key file (KMS there would be the parent region's, abroad).
  const givenKey = plan.config.recording.keyWrapping.kind === 'aws-kms' ? plan.config.recording.keyWrapping.keyArn : undefined;
  const madeKeyArn = givenKey === undefined && regional ? new RecordingKey('lectern-recording-key', { provider }).keyArn : undefined;
  const credential = new TurnCredential('lectern-turn-credential', { value: turnSecret, kmsKeyId: regional?.kmsKeyArn, provider });
  const role = new HostRole('lectern-host', {
    parameterArn: credential.parameterArn,
    regional: regional && { bucketArn: regional.bucketArn, kmsKeyArn: regional.kmsKeyArn, logGroupArn: regional.logGroupArn },
    recordingKeyArn: givenKey ?? madeKeyArn,
    provider,
  });
  const sfuIp = addresses.media.publicIp;
  const turnIp = addresses.turn?.publicIp ?? sfuIp;
  const coturn = (publicAddress: string, sfuAddress: string): CoturnSettings => ({
    realm: plan.turnDomain,
    port: deployment.turn.port,
    tlsPort: deployment.turn.tlsPort,
    relayPortMin: deployment.turn.relayPortMin,
    relayPortMax: deployment.turn.relayPortMax,
    allowedPeer: sfuAddress,
    publicAddress,
  });
  const secret = credential.parameterName.apply((parameterName): SecretSource => ({ parameterName, region: placement.providerRegion }));
  const dataStore: pulumi.Output<HostDataStore> = regional
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
    : zoneStore!.volume.id.apply((volumeId) => ({
        kind: 'zone-volume' as const,
        volumeId,
        logRetentionDays: deployment.storage.logRetentionDays,
        recordingsRetentionDays: deployment.storage.recordingsRetentionDays,
      }));
  // Where each host may open connections: one list for the security group, the host and the audit.
  const egressInputs = pulumi.all([sfuIp, regional?.bucketName ?? '', madeKeyArn ?? '']).apply(
    ([ip, bucket, keyArn]): EgressInputs => ({ serverConfig: deployedServerConfig(plan, { announcedAddress: ip, recordingKeyArn: keyArn || undefined }), deployment, region: placement.providerRegion, sfuAddress: ip, bucket: bucket || undefined }),
  );
  const mediaEgress = egressInputs.apply((inputs) => egressDestinations('media', inputs));
  const turnEgress = egressInputs.apply((inputs) => egressDestinations('turn', inputs));
  const mediaUserData = pulumi.all([sfuIp, secret, dataStore, mediaEgress, madeKeyArn ?? '']).apply(([ip, source, store, egress, keyArn]) =>
    mediaHostUserData({
      deployment,
      serverConfig: deployedServerConfig(plan, { announcedAddress: ip, recordingKeyArn: keyArn || undefined }),
      secret: source,
      dataStore: store,
      coturn: separateTurn ? undefined : coturn(ip, ip),
      egress,
    }),
  );
  const mediaFirewall = new HostFirewall('lectern-media', { vpcId: network.vpcId, rules: mediaHostRules(plan.config, deployment), egress: mediaEgress.apply(egressRules), sfuAddress: sfuIp, provider });
  const media = new Host('lectern-media', {
    placement,
    instanceType: deployment.sfu.instanceType,
    rootVolumeGb: deployment.sfu.rootVolumeGb,
    subnetId: network.subnetId,
    securityGroupId: mediaFirewall.securityGroupId,
    instanceProfileName: role.instanceProfileName,
    address: addresses.media,
    userData: mediaUserData,
    provider,
  });
  zoneStore?.attachTo('lectern-store', media.instance);
  if (separateTurn) {
    const turnFirewall = new HostFirewall('lectern-turn', { vpcId: network.vpcId, rules: turnHostRules(deployment), egress: turnEgress.apply(egressRules), sfuAddress: sfuIp, provider });
    new Host('lectern-turn', {
      placement,
      instanceType: deployment.turn.instanceType,
      rootVolumeGb: 16,
      subnetId: network.subnetId,
      securityGroupId: turnFirewall.securityGroupId,
      instanceProfileName: role.instanceProfileName,
      address: addresses.turn!,
      userData: pulumi.all([turnIp, sfuIp, secret, turnEgress]).apply(([own, sfu, source, egress]) =>
        turnHostUserData({ coturn: coturn(own, sfu), secret: source, acmeEmail: deployment.acmeEmail, egress }),
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
    dnsRecords: pulumi.all([sfuIp, turnIp]).apply(([sfu, turn]) => {
      const records = [{ name: deployment.domain, type: 'A' as const, value: sfu }];
      if (plan.turnDomain !== deployment.domain) records.push({ name: plan.turnDomain, type: 'A', value: turn });
      return records;
    }),
    country: placement.country,
    placementKind: placement.kind,
    placementName: placement.name,
    region: placement.providerRegion,
    availabilityZone: placement.availabilityZone,
    lecternVersion: deployment.release.version,
    dataLocations: pulumi.output(placement.locations.map((location) => ({ ...location, resource: resourceFor(location) }))),
    caveats: placement.caveats,
    egressDestinations: pulumi.all([mediaEgress, turnEgress]).apply(([m, t]) => ({ media: m, turn: separateTurn ? t : [] })),
    // A Local Zone's control plane in the parent region is accepted by the stack config; the pack is told so.
    policyPackConfig: { all: { country: placement.country, ...(placement.kind === 'local-zone' ? { acceptParentRegionControlPlane: true } : {}) } },
  };
}
