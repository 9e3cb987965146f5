// Sign-in: signed room links, OpenID Connect against the university's identity provider, guests.
// Owned by the sign-in work (server/auth/); kept in the one config schema.
//
// With nothing configured Lectern still works on one machine: guests join as students, and the
// server signs room links and session cookies with keys it generates at start-up. Those keys live
// only in memory, so links and sign-ins keep working across page reloads but end when the server
// restarts. Configure `tokenSecret` and `sessionSecret` to make them outlive a restart.
//
// The two secrets sit at the top of the section so each can come from its own environment variable
// (LECTERN_AUTH_TOKEN_SECRET, LECTERN_AUTH_SESSION_SECRET), e.g. from a systemd credential.
import { Type, type Static } from '@sinclair/typebox';
import { RoleSchema, type Role } from './roles.js';

export { RoleSchema, type Role };

// Same rule as the protocol's RoomName; repeated here because config/ imports nothing but TypeBox.
const RoomNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

// 32 bytes is the HS256 key size; a shorter secret would be the weakest link of the signature.
const Secret = Type.String({ minLength: 32 });

/** A key of the university's own systems that Lectern trusts to sign room tokens (verify only). */
export const TrustedKeySchema = Type.Object(
  {
    alg: Type.Union([Type.Literal('EdDSA'), Type.Literal('RS256')]),
    /** SPKI public key in PEM ("-----BEGIN PUBLIC KEY-----"); Ed25519 for EdDSA, RSA >= 2048 bits for RS256. */
    publicKey: Type.String({ pattern: '-----BEGIN PUBLIC KEY-----' }),
    /** Required `iss` of tokens signed with this key. */
    issuer: Type.String({ minLength: 1 }),
    /** Required `aud` of tokens signed with this key. */
    audience: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

export const TokensSchema = Type.Object(
  {
    /** `iss` and `aud` of the links Lectern signs itself with tokenSecret (or its ephemeral key). */
    issuer: Type.String({ minLength: 1, default: 'lectern' }),
    audience: Type.String({ minLength: 1, default: 'lectern' }),
    /** Tokens signed by the university's systems. When set and tokenSecret is not, Lectern issues no links itself. */
    trustedKeys: Type.Array(TrustedKeySchema, { default: [] }),
    /** Lifetime of an issued link when the request names none: a class plus margin. */
    defaultTtlSeconds: Type.Integer({ minimum: 60, default: 4 * 3600 }),
    /** Longest lifetime an issued link may ask for (a term's worth of lectures). */
    maxTtlSeconds: Type.Integer({ minimum: 60, default: 120 * 24 * 3600 }),
    /** Clock difference tolerated between Lectern and the university's token issuer. */
    clockToleranceSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);

export const GuestsSchema = Type.Object(
  {
    /** Whether someone with no link and no sign-in may join. */
    enabled: Type.Boolean({ default: true }),
    /** The role a guest gets; `student` keeps a local Lectern usable with no set-up. */
    role: Type.Union([Type.Literal('student'), Type.Literal('guest')], { default: 'student' }),
    /** Only these rooms admit guests; absent means every room. */
    rooms: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: RoomNamePattern }))),
  },
  { additionalProperties: false, default: {} },
);

export const OidcSchema = Type.Object(
  {
    /** Issuer identifier of the university's IdP (discovery at <issuer>/.well-known/openid-configuration). https, or http on loopback only. */
    issuer: Type.String({ pattern: '^https?://' }),
    clientId: Type.String({ minLength: 1 }),
    /** Absent for a public client (PKCE only). */
    clientSecret: Type.Optional(Type.String({ minLength: 1 })),
    scopes: Type.String({ default: 'openid profile' }),
    /** Where the IdP sends people back; defaults to <http.publicUrl>/auth/callback, else the request's own origin. */
    redirectUrl: Type.Optional(Type.String({ pattern: '^https?://[^/]+/auth/callback$' })),
    /** Claim (ID token or userinfo) holding a group or affiliation, a string or a list of strings. */
    roleClaim: Type.String({ minLength: 1, default: 'groups' }),
    /** Claim values that make someone an instructor; checked before studentValues. */
    instructorValues: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    studentValues: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** A signed-in person matching neither list: join as a guest, or be refused. */
    otherwise: Type.Union([Type.Literal('guest'), Type.Literal('refuse')], { default: 'refuse' }),
    displayNameClaim: Type.String({ minLength: 1, default: 'name' }),
  },
  { additionalProperties: false },
);

export const AuthSchema = Type.Object(
  {
    /** HS256 key (>= 32 bytes) for the room links Lectern signs and verifies; absent means an ephemeral key (see above). */
    tokenSecret: Type.Optional(Secret),
    /** HS256 key (>= 32 bytes) for session and sign-in cookies; absent means an ephemeral key. */
    sessionSecret: Type.Optional(Secret),
    /** How long an OpenID Connect sign-in lasts before the person signs in again. */
    sessionTtlSeconds: Type.Integer({ minimum: 300, default: 12 * 3600 }),
    tokens: TokensSchema,
    guests: GuestsSchema,
    /** OpenID Connect sign-in; absent means no sign-in button. */
    oidc: Type.Optional(OidcSchema),
    /** SHA-256 (hex) of each admin bearer token, never the token itself: `printf %s "$TOKEN" | sha256sum`. */
    adminTokens: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { default: [] }),
  },
  { additionalProperties: false, default: {} },
);

export type AuthConfig = Static<typeof AuthSchema>;
export type OidcConfig = Static<typeof OidcSchema>;
