// From the IdP's claims to a Lectern role. Pure, so the mapping rules are tested without an IdP.
import type { OidcConfig } from '../../config/auth.js';
import type { Role } from './Identity.js';

/** The values of a claim that may be one string or a list (groups, eduPersonAffiliation...). */
export function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Instructor if any value is an instructor value, else student, else guest or undefined (refused). */
export function roleFromClaims(claims: Record<string, unknown>, oidc: Pick<OidcConfig, 'roleClaim' | 'instructorValues' | 'studentValues' | 'otherwise'>): Role | undefined {
  const values = new Set(claimValues(claims[oidc.roleClaim]));
  // Instructor first: someone who both teaches and studies is a host in their own class.
  if (oidc.instructorValues.some((v) => values.has(v))) return 'instructor';
  if (oidc.studentValues.some((v) => values.has(v))) return 'student';
  return oidc.otherwise === 'guest' ? 'guest' : undefined;
}
