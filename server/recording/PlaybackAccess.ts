// Who may do what with one recording: the one rule, decided here and nowhere else. The HTTP edge
// (routes/recordings.ts) only finds out who is asking and maps a refusal to its one 403 body.
//
//   admin (admin token)              play, export, delete: any recording
//   a playback link for it           play (the link was issued to someone who passed this rule),
//                                    and export if the one it was issued to may export (the
//                                    playback page's Export button downloads through it)
//   a role with `record`             play, export, delete, where their credential is for that room
//                                    or for every room (a sign-in, an all-rooms link), as before
//   a student                        play, and only a recording of a room they belong to (the room
//                                    claim of their signed link or LTI launch names that room) that
//                                    allows students to play; a sign-in or an all-rooms link names
//                                    no room, so it is not membership of any
//   a guest, anyone else             nothing
import type { RolesConfig } from '../../config/index.js';
import type { Identity } from '../auth/index.js';
import type { PlaybackGrant } from './PlaybackLinks.js';

/** What a recording's access is decided on. */
export interface RecordingAccessSubject {
  room: string;
  studentPlayback: boolean;
}

/** Who is asking. */
export type RecordingCaller =
  | { kind: 'admin' }
  | { kind: 'link'; grant: PlaybackGrant }
  | { kind: 'person'; identity: Identity };

/** What the caller may do with the recording. */
export interface RecordingRights {
  play: true;
  /** Export to a single file (needs `record` or admin). */
  export: boolean;
  /** Delete with a receipt (needs `record` or admin). */
  delete: boolean;
}

/** Why a caller was refused: for the audit entry, never shown (every refusal has one body). */
export type RefusalReason =
  | 'guest' // guests never play recordings
  | 'not-a-member' // a student whose credential names no room, or another room
  | 'students-not-allowed' // a student of the room, but the room does not let students play
  | 'role-lacks-record'; // the action needs `record` (export, delete): decided by the edge from the rights

/** The decision: rights, or the reason for a refusal. */
export type RecordingAccess = { allowed: true; rights: RecordingRights } | { allowed: false; reason: RefusalReason };

const ALL: RecordingRights = { play: true, export: true, delete: true };

/** Decides every recording access by the rule above. */
export class PlaybackAccess {
  readonly #roles: RolesConfig;

  constructor(roles: RolesConfig) {
    this.#roles = roles;
  }

  /** The caller's rights on `recording`, or why they have none. */
  decide(caller: RecordingCaller, recording: RecordingAccessSubject): RecordingAccess {
    if (caller.kind === 'admin') return { allowed: true, rights: ALL };
    if (caller.kind === 'link') return { allowed: true, rights: { play: true, export: caller.grant.export, delete: false } };
    const { identity } = caller;
    // Whatever a config grants the guest role, a guest is nobody the recording can be attributed to.
    if (identity.role === 'guest' || identity.via === 'guest') return { allowed: false, reason: 'guest' };
    if (this.#roles[identity.role].includes('record')) {
      return identity.room === recording.room || identity.room === '*' ? { allowed: true, rights: ALL } : { allowed: false, reason: 'not-a-member' };
    }
    if (identity.room !== recording.room) return { allowed: false, reason: 'not-a-member' };
    if (!recording.studentPlayback) return { allowed: false, reason: 'students-not-allowed' };
    return { allowed: true, rights: { play: true, export: false, delete: false } };
  }
}
