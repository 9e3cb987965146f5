// Who may do what in a class, as data. The server checks every signalling request against this
// table in one place (server/signalling/Authorizer.ts); a university can tighten or loosen a role
// in its config without touching code.
import { Type, type Static } from '@sinclair/typebox';

/** Everything a participant can be allowed to do. */
export const PERMISSIONS = [
  'produceAudio', // speak
  'produceVideo', // send a camera
  'shareScreen', // present slides or a screen
  'chat', // write in the room chat
  'raiseHand',
  'moderate', // mute others, stop cameras, remove people, lower hands, make presenters
  'admit', // see the lobby, admit or deny, lock the room, turn the lobby on/off
  'endClass', // end the class for everyone
  'skipLobby', // enter directly even when the lobby is on
  'joinLocked', // enter a locked room
  'poll', // open, close and share polls, see live results, export them (CSV)
  'breakout', // split the class into breakout rooms, visit them, broadcast to them, bring everyone back
  'record', // start and stop recording the class, shorten its retention, delete and play its recordings
] as const;
export type Permission = (typeof PERMISSIONS)[number];
export const PermissionSchema = Type.Union(PERMISSIONS.map((p) => Type.Literal(p)));

export const ROLES = ['instructor', 'student', 'guest'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

const Grants = (defaults: Permission[]) => Type.Array(PermissionSchema, { default: defaults, uniqueItems: true });

export const RolesSchema = Type.Object(
  {
    instructor: Grants([...PERMISSIONS]),
    student: Grants(['produceAudio', 'produceVideo', 'chat', 'raiseHand']),
    guest: Grants(['produceAudio', 'produceVideo', 'chat', 'raiseHand']),
    /** What an instructor adds when they make a student the presenter. */
    presenter: Grants(['shareScreen', 'produceAudio', 'produceVideo']),
  },
  { additionalProperties: false, default: {} },
);

export type RolesConfig = Static<typeof RolesSchema>;
