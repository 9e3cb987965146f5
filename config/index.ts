// The deployment configuration: one schema, one loader. Read by server/, infra/ and audit/.
export { LecternConfigSchema, IceServerSchema, type LecternConfig, type IceServer } from './schema.js';
export { DeploymentSchema, CountryCodeSchema, type DeploymentConfig } from './deployment.js';
export { AuthSchema, type AuthConfig } from './auth.js';
export { LtiSchema, type LtiConfig, type LtiPlatformConfig, type LtiRolesConfig } from './lti.js';
export { RolesSchema, PERMISSIONS, ROLES, type Permission, type Role, type RolesConfig } from './roles.js';
export { loadConfig, parseConfig, ConfigError, type LoadOptions } from './load.js';
export { ClusterSchema, MetricsSchema, NodePlacementSchema, type ClusterConfig, type MetricsConfig, type NodePlacement, type RedisConfig } from './cluster.js';
export { RecordingSchema, RecordingConsentPolicySchema, KmsKeyWrappingSchema, KMS_CONTEXT_RECORDING, KMS_CONTEXT_ROOM, type RecordingConfig, type RecordingConsentPolicy, type KeyWrappingConfig, type KmsKeyWrappingConfig } from './recording.js';
