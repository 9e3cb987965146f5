// The shape of the audit trail. Shared by the writer (AuditLog) and the verifier (verifyLog).
import type { JsonValue } from './canonical.js';

/** prevHash of the first entry: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Every action Lectern writes to the audit log: the one list. The server's writes are typed
 * against it (AuditEntryInput.action, and the rooms' ClassRecorder), so an action cannot be
 * written without being listed here, and an auditor reading this list knows every entry to expect.
 */
export const AUDIT_ACTIONS = [
  // the log itself
  'log.created',
  'log.recovered',
  // a room's life
  'room.opened',
  'room.closed',
  'class.ended',
  // participants
  'peer.joined',
  'peer.left',
  'peer.detached',
  'peer.resumed',
  'room.mediaMoved',
  'room.admission_refused', // a join refused because the media workers were at capacity
  'lobby.admitted',
  'lobby.denied',
  'policy.changed',
  // moderation
  'moderation.muted',
  'moderation.mutedAll',
  'moderation.unmuteAllowed',
  'moderation.removed',
  'moderation.presenter',
  'moderation.handLowered',
  'moderation.lectureMode',
  // polls and breakout rooms
  'poll.opened',
  'poll.closed',
  'poll.shared',
  'poll.exported',
  'breakout.started',
  'breakout.ended',
  // the LMS
  'lti.launched',
  // recordings (subject `recording:<id>`, except consent decisions, which belong to the class, and
  // anonymous refusals of several recordings from one address in one minute: `recording:*`)
  'recording.started',
  'recording.stopped',
  'recording.consent',
  'recording.retention',
  'recording.played',
  'recording.linkIssued',
  'recording.deleted',
  'recording.recorderFailed',
  'recording.playbackRefused',
  'recording.exported',
] as const;

/** One of AUDIT_ACTIONS. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Who did it. A user is recorded as a keyed hash of their id unless `reveal` is set (e.g. a
 * policy that names administrators); the system records its own component name.
 */
export type AuditActor = { kind: 'user'; id: string; reveal?: boolean } | { kind: 'system'; name: string };

/** What the server hands to `AuditLog.append`. */
export interface AuditEntryInput {
  /** Who acted. */
  actor: AuditActor;
  /** What they did, as `area.verb`. */
  action: AuditAction;
  /** What it was done to: a room id, a recording id, a config key. Never a person's name. */
  subject: string;
  /** Anything else worth keeping; must be JSON. Keep personal data out. */
  details?: Record<string, JsonValue>;
}

/** One line of the log file, as written. */
export interface AuditRecord {
  /** 0 for the first entry, then +1 per entry, no gaps. */
  seq: number;
  /** ISO-8601 UTC time of the append. */
  time: string;
  /** `user:p:<pseudonym>`, `user:<id>` (revealed) or `system:<name>`. */
  actor: string;
  action: string;
  subject: string;
  details: Record<string, JsonValue>;
  /** `hash` of the previous entry; GENESIS_HASH for seq 0. */
  prevHash: string;
  /** Hex SHA-256 of the canonical JSON of every field above. */
  hash: string;
  /** Base64 Ed25519 signature over the UTF-8 bytes of `hash`. */
  sig: string;
}

/** The last entry of a log: publish it elsewhere to make removal of trailing entries detectable. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** The fields covered by `hash`, in the order a reader would expect (the hash sorts them anyway). */
export type AuditRecordBody = Omit<AuditRecord, 'hash' | 'sig'>;

/** File names inside an audit directory. */
export const AUDIT_FILES = {
  log: 'audit.jsonl',
  privateKey: 'audit-signing-key.pem',
  publicKey: 'audit-signing-key.pub.pem',
  pseudonymKey: 'audit-pseudonym.key',
  lock: 'audit.lock',
  checkpoint: 'audit.checkpoint',
} as const;
