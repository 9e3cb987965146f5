// Sign-in and roles: who a participant is (room link, OpenID Connect, guest) and who is an admin.
export { Authenticator } from './Authenticator.js';
export { AuthError, type AuthErrorCode } from './AuthError.js';
export { authRoutes, type AuthRoutesOptions } from './routes.js';
export { ROLES, isRole, isDisplayName, isRoomTitle, type Identity, type Role } from './Identity.js';
export type { RoomTokenRequest } from './RoomTokens.js';
