// Who is joining: a room link token if the client sent one, else the sign-in session cookie on the
// WebSocket upgrade request, else guest access where the deployment allows it.
import type { FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/index.js';
import type { PeerIdentity } from '../rooms/Peer.js';
import type { IdentityResolver } from './Session.js';
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
  async resolve(room: string, token: string | undefined, request: FastifyRequest): Promise<JoinIdentity> {
    if (token !== undefined) return this.#auth.verifyRoomToken(token, room);
    const signedIn = await this.#auth.identityFromRequest(request, room);
    if (signedIn) return signedIn;
    const guest = this.#auth.guestIdentity(room);
    if (guest) return guest;
    throw new SignallingError('unauthorized', 'sign in or use a room link to join this class');
  }
}
