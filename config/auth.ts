// Sign-in: signed room links, OpenID Connect against the university's identity provider, guests.
// Owned by the sign-in work (server/auth/); kept in the one config schema.
import { Type, type Static } from '@sinclair/typebox';

export const AuthSchema = Type.Object({}, { additionalProperties: false, default: {} });

export type AuthConfig = Static<typeof AuthSchema>;
