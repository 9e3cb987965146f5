// The Pulumi program (Pulumi.yaml `main`). Refuses to build from a stack that would place anything
// outside its country (infra/plan.ts), then builds and exports what the audit reads.
import * as pulumi from '@pulumi/pulumi';
import { planDeployment } from './plan.js';
import { buildLectern } from './program.js';

const plan = planDeployment(pulumi.runtime.allConfig());
// Kept out of the schema (and so out of the server's config file): the hosts fetch it from SSM at boot.
const turnSecret = new pulumi.Config('lectern').requireSecret('turnCredential');
// A cluster's Redis AUTH token: a stack secret, kept out of the config like the TURN secret.
const redisToken = plan.cluster ? new pulumi.Config('lectern').requireSecret('redisAuthToken') : undefined;
// The key the nodes sign their control requests with (cluster.internal.secretFile), likewise.
const clusterSecret = plan.cluster ? new pulumi.Config('lectern').requireSecret('clusterSecret') : undefined;
const outputs = buildLectern(plan, turnSecret, redisToken, clusterSecret);

export const url = outputs.url;
export const domain = outputs.domain;
export const turnDomain = outputs.turnDomain;
export const sfuPublicIp = outputs.sfuPublicIp;
export const turnPublicIp = outputs.turnPublicIp;
export const dnsRecords = outputs.dnsRecords;
export const country = outputs.country;
export const placementKind = outputs.placementKind;
export const placementName = outputs.placementName;
export const region = outputs.region;
export const availabilityZone = outputs.availabilityZone;
export const lecternVersion = outputs.lecternVersion;
export const dataLocations = outputs.dataLocations;
export const caveats = outputs.caveats;
export const policyPackConfig = outputs.policyPackConfig;
export const egressDestinations = outputs.egressDestinations;
export const mediaNodes = outputs.mediaNodes;
