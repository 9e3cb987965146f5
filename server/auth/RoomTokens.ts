// Room links: JWTs that say "this bearer may join room R as role X until T". Lectern signs its own
// with HS256 (configured secret, or a key made at start-up); the university's systems may sign theirs
// with Ed25519 or RSA keys Lectern only verifies. All cryptography is jose's.
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, importSPKI, decodeProtectedHeader, decodeJwt, errors, type JWTPayload, type CryptoKey } from 'jose';
import type { AuthConfig } from '../../config/auth.js';
import { AuthError } from './AuthError.js';
import { isDisplayName, isRole, isRoomTitle, type Identity, type Role } from './Identity.js';

const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What a link grants. */
export interface RoomTokenRequest {
  room: string | '*';
  role: Role;
  /** The person the link is for; absent for a link shared by a whole class. */
  subject?: string;
  displayName?: string;
  /** What the page shows as the class's name (a course title from the LMS); display only, never checked. */
  roomTitle?: string;
  /** Lifetime; defaults to auth.tokens.defaultTtlSeconds, at most auth.tokens.maxTtlSeconds. */
  ttlSeconds?: number;
}

interface Verifier {
  alg: 'HS256' | 'EdDSA' | 'RS256';
  key: Uint8Array | CryptoKey;
  issuer: string;
  audience: string;
}

/** Signs and verifies room tokens. */
export class RoomTokens {
  readonly #tokens: AuthConfig['tokens'];
  /** Lectern's own HS256 key; undefined when only the university issues tokens. */
  readonly #signingKey: Uint8Array | undefined;
  readonly #verifiers: Verifier[];
  /** True when the signing key was generated at start-up and dies with the process. */
  readonly ephemeral: boolean;

  private constructor(tokens: AuthConfig['tokens'], signingKey: Uint8Array | undefined, verifiers: Verifier[], ephemeral: boolean) {
    this.#tokens = tokens;
    this.#signingKey = signingKey;
    this.#verifiers = verifiers;
    this.ephemeral = ephemeral;
  }

  /** Import the configured keys; make an ephemeral signing key when no key is configured at all. */
  static async create(config: AuthConfig): Promise<RoomTokens> {
    const verifiers: Verifier[] = [];
    for (const trusted of config.tokens.trustedKeys) {
      verifiers.push({ alg: trusted.alg, key: await importSPKI(trusted.publicKey, trusted.alg), issuer: trusted.issuer, audience: trusted.audience });
    }
    // A deployment that trusts the university's keys and set no secret of its own has chosen the
    // university as the only issuer; inventing a key then would add an issuer nobody asked for.
    const ephemeral = config.tokenSecret === undefined && verifiers.length === 0;
    const signingKey = config.tokenSecret !== undefined ? new TextEncoder().encode(config.tokenSecret) : ephemeral ? randomBytes(32) : undefined;
    if (signingKey) verifiers.unshift({ alg: 'HS256', key: signingKey, issuer: config.tokens.issuer, audience: config.tokens.audience });
    return new RoomTokens(config.tokens, signingKey, verifiers, ephemeral);
  }

  /** Whether this server signs links itself (false when only the university's systems do). */
  get canIssue(): boolean {
    return this.#signingKey !== undefined;
  }

  /** Sign a link. Throws RangeError for a bad room or lifetime, Error when this server issues no links. */
  async issue(request: RoomTokenRequest): Promise<string> {
    if (!this.#signingKey) throw new Error('this server issues no room tokens: auth.tokenSecret is not set and auth.tokens.trustedKeys is');
    if (request.room !== '*' && !ROOM_PATTERN.test(request.room)) throw new RangeError(`invalid room name: ${request.room}`);
    if (request.displayName !== undefined && !isDisplayName(request.displayName)) throw new RangeError('invalid display name');
    if (request.roomTitle !== undefined && !isRoomTitle(request.roomTitle)) throw new RangeError('invalid room title');
    const ttl = request.ttlSeconds ?? this.#tokens.defaultTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > this.#tokens.maxTtlSeconds) {
      throw new RangeError(`ttlSeconds must be an integer from 1 to ${this.#tokens.maxTtlSeconds}`);
    }
    const claims: JWTPayload = { role: request.role, room: request.room };
    if (request.displayName !== undefined) claims.name = request.displayName;
    if (request.roomTitle !== undefined) claims.title = request.roomTitle;
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(this.#tokens.issuer)
      .setAudience(this.#tokens.audience)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
    if (request.subject !== undefined) jwt.setSubject(request.subject);
    return jwt.sign(this.#signingKey);
  }

  /** Verify a token for `room`. Throws AuthError: expired, wrong_room, or unauthorized for anything else. */
  async verify(token: string, room: string): Promise<Identity> {
    const payload = await this.#verifySignature(token);
    const { role, room: tokenRoom, sub, name, jti } = payload;
    if (!isRole(role)) throw new AuthError('unauthorized', 'the token grants no known role');
    if (typeof tokenRoom !== 'string' || (tokenRoom !== '*' && !ROOM_PATTERN.test(tokenRoom))) {
      throw new AuthError('unauthorized', 'the token names no room');
    }
    if (tokenRoom !== '*' && tokenRoom !== room) throw new AuthError('wrong_room', 'the token is for another room');
    const identity: Identity = {
      subject: typeof sub === 'string' && sub.length > 0 ? sub : typeof jti === 'string' ? `link:${jti}` : 'link',
      role,
      room: tokenRoom,
      via: 'token',
    };
    // A malformed name is dropped rather than refused: the join request carries a name anyway.
    if (isDisplayName(name)) identity.displayName = name;
    if (typeof jti === 'string' && jti.length > 0) identity.tokenId = jti;
    return identity;
  }

  async #verifySignature(token: string): Promise<JWTPayload> {
    let alg: string | undefined;
    let issuer: unknown;
    try {
      // Unverified reads, only to choose which key to try; jwtVerify checks everything again.
      alg = decodeProtectedHeader(token).alg;
      issuer = decodeJwt(token).iss;
    } catch {
      throw new AuthError('unauthorized', 'the token is malformed');
    }
    // 'none' and any algorithm we hold no key for match no verifier, so they never reach jwtVerify.
    const candidates = this.#verifiers.filter((v) => v.alg === alg && v.issuer === issuer);
    if (candidates.length === 0) throw new AuthError('unauthorized', 'the token is not from a trusted issuer');
    for (const verifier of candidates) {
      try {
        const { payload } = await jwtVerify(token, verifier.key, {
          algorithms: [verifier.alg],
          issuer: verifier.issuer,
          audience: verifier.audience,
          requiredClaims: ['exp'],
          clockTolerance: this.#tokens.clockToleranceSeconds,
        });
        return payload;
      } catch (error) {
        // Several keys may share an issuer during a key rotation: a bad signature means "try the next".
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        throw toAuthError(error);
      }
    }
    throw new AuthError('unauthorized', 'the token signature is invalid');
  }
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof errors.JWTExpired) return new AuthError('expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return new AuthError('unauthorized', `the token is not valid: ${error.claim} ${error.reason}`);
  return new AuthError('unauthorized', 'the token is not valid');
}
