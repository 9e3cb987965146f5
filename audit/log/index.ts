// The audit log, for the server (AuditLog) and for verifiers (verifyLog). node:crypto only.
export { AuditLog, AuditLogError, type AuditLogOptions } from './AuditLog.js';
export { verifyLog, verifyLogBytes, type LogVerification, type LogProblem, type LogProblemKind, type VerifyOptions } from './verifyLog.js';
export { canonicalJson, type JsonValue } from './canonical.js';
export { keyFingerprint } from './crypto.js';
export {
  AUDIT_FILES,
  GENESIS_HASH,
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditActor,
  type AuditEntryInput,
  type AuditHead,
  type AuditRecord,
} from './types.js';
