// Who a participant is and what they may be: the one shape every way in (link, sign-in, guest) ends in.
import { ROLES, type Role } from '../../config/roles.js';

export { ROLES, type Role };

/** A verified participant. `subject` names a person for sign-ins, but may name a shared link for tokens. */
export interface Identity {
  /** Stable id: the IdP's `sub`, a token's `sub` (or `link:<jti>` when the link names nobody), or `guest:<uuid>`. */
  subject: string;
  /** Name from the IdP or the token; the join request's name is used when absent. */
  displayName?: string;
  role: Role;
  /** The room this identity is good for; '*' for every room (a sign-in, or an all-rooms link). */
  room: string | '*';
  /** How the person got in. */
  via: 'token' | 'oidc' | 'guest';
  /** The token's `jti`, so a removed participant's token can be refused. */
  tokenId?: string;
}

/** True for the three role names and nothing else (claims from tokens and IdPs are untrusted input). */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

// Same rule as the protocol's DisplayName: names end up in logs and on other people's screens.
const DISPLAY_NAME = /^[^\u0000-\u001f\u007f]{1,64}$/;

/** True for a name fit to show others: 1-64 characters, no control characters. */
export function isDisplayName(value: unknown): value is string {
  return typeof value === 'string' && DISPLAY_NAME.test(value);
}

const ROOM_TITLE = /^[^\u0000-\u001f\u007f]{1,120}$/;

/** True for a class title fit to show (a course name): 1-120 characters, no control characters. */
export function isRoomTitle(value: unknown): value is string {
  return typeof value === 'string' && ROOM_TITLE.test(value);
}
