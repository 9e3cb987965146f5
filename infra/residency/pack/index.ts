// Policy pack entry: `pulumi preview --policy-pack infra/residency/pack --policy-pack-config <file>`.
// The only place a PolicyPack is constructed (doing so starts the engine's gRPC server).
import { PolicyPack } from '@pulumi/policy';
import { residencyPolicies } from '../policies.js';

new PolicyPack('lectern-residency', { policies: [...residencyPolicies] });
