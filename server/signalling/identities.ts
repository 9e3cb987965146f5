// Who is joining: a room link token if the client sent one, else the sign-in session cookie on the
// WebSocket upgrade request, else guest access where the deployment allows it.
import type { Authenticator, Identity } from '../auth/index.js';
import type { PeerIdentity } from '../rooms/Peer.js';
import type { IdentityResolver, SignInHeaders } from './Session.js';
import { SignallingError } from './SignallingError.js';

/** A joining participant's identity, with the name their sign-in or link gives them, if any. */
export type JoinIdentity = PeerIdentity & { displayName?: string | undefined };

/** IdentityResolver over the Authenticator. */
export class JoinIdentities implements IdentityResolver {
  readonly #auth: Authenticator;

  constructor(auth: Authenticator) {
    this.#auth = auth;
  }

  /** Resolve or throw `unauthorized` (AuthErrors are mapped by wireError). */
  async resolve(room: string, token: string | undefined, request: SignInHeaders): Promise<JoinIdentity> {
    const identity =
      token !== undefined
        ? await this.#auth.verifyRoomToken(token, room)
        : ((await this.#auth.identityFromRequest(request, room)) ?? this.#auth.guestIdentity(room));
    if (!identity) throw new SignallingError('unauthorized', 'sign in or use a room link to join this class');
    // A literal, not `{ ...identity, personal }`: the Peer keeps this for the whole class, and V8
    // gives every object made by spread-plus-property its own hidden class (~200 bytes each).
    return {
      subject: identity.subject,
      role: identity.role,
      tokenId: identity.tokenId,
      personal: isPersonal(identity),
      displayName: identity.displayName,
    };
  }
}

/** A sign-in, or a link issued to a named subject (shared links have subject `link:<jti>`). */
function isPersonal(identity: Identity): boolean {
  if (identity.via === 'oidc') return true;
  return identity.via === 'token' && !identity.subject.startsWith('link:');
}
