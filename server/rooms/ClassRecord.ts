// The hook through which every moderation action and room lifecycle event leaves the room: the
// server hands rooms a recorder, which writes the tamper-evident audit log (audit/log) and the
// structured log. Rooms never know where records go.
import type { Role } from '../../config/index.js';

/** What happened in a class that an auditor may need to know. */
export type ClassAction =
  | 'room.opened'
  | 'room.closed'
  | 'peer.joined'
  | 'peer.left'
  | 'peer.detached'
  | 'peer.resumed'
  | 'room.mediaMoved'
  | 'lobby.admitted'
  | 'lobby.denied'
  | 'policy.changed'
  | 'moderation.muted'
  | 'moderation.mutedAll'
  | 'moderation.unmuteAllowed'
  | 'moderation.removed'
  | 'moderation.presenter'
  | 'moderation.handLowered'
  | 'class.ended';

/** One record: who did what to whom in which room. Subjects are identity subjects, never names. */
export interface ClassEvent {
  action: ClassAction;
  room: string;
  /** The participant who acted (identity subject), or 'server'. */
  actor: string;
  actorRole?: Role;
  /** The participant acted upon, if any (identity subject). */
  subject?: string;
  details?: Record<string, string | number | boolean>;
}

/** Where rooms send their records. */
export interface ClassRecorder {
  record(event: ClassEvent): void;
}
