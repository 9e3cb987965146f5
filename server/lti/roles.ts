// From an LTI launch's roles claim to a Lectern role. Pure, so the mapping is tested without an LMS.
import type { LtiRolesConfig } from '../../config/lti.js';
import type { Role } from '../auth/index.js';

const INSTITUTION = 'http://purl.imsglobal.org/vocab/lis/v2/institution/';
const SYSTEM = 'http://purl.imsglobal.org/vocab/lis/v2/system/';

/**
 * Instructor if a course (context) role is an instructor role, else student if one is a student role.
 * Institution roles count only when the launch carries no course role at all: a lecturer enrolled as
 * a Learner in a colleague's course is a student there. Neither: guest, or undefined when refused.
 */
export function roleFromLaunch(roles: readonly string[], mapping: LtiRolesConfig): Role | undefined {
  const context = roles.filter((r) => !r.startsWith(INSTITUTION) && !r.startsWith(SYSTEM));
  const considered = context.length > 0 ? context : roles;
  if (considered.some((r) => mapping.instructor.includes(r))) return 'instructor';
  if (considered.some((r) => mapping.student.includes(r))) return 'student';
  return mapping.otherwise === 'guest' ? 'guest' : undefined;
}
