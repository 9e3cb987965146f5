// LTI 1.3: a course in the university's LMS (Moodle, Canvas, Brightspace...) opens its class in
// Lectern, and the LMS says who is teaching. Owned by server/lti/; kept in the one config schema.
//
// Each platform is registered by hand on both sides (README, "Open a class from your LMS"): the
// LMS is told Lectern's URLs and key set; Lectern is told the values below, copied from the LMS.
// No platform registered means no LTI endpoints answer at all.
import { Type, type Static } from '@sinclair/typebox';

// Full URLs; whether http is allowed (loopback only) is decided once, in server/lti/Platforms.ts.
const Url = Type.String({ pattern: '^https?://', maxLength: 2048 });
const Origin = Type.String({ pattern: '^https?://[^/]+$', maxLength: 512 });

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2';

/** One LMS registration (Moodle: Site administration > Plugins > External tool > Manage tools). */
export const LtiPlatformSchema = Type.Object(
  {
    /** Platform ID / issuer (`iss` of its tokens), e.g. https://moodle.example.edu. */
    issuer: Type.String({ pattern: '^https?://', minLength: 8, maxLength: 512 }),
    /** Client ID the LMS gave this tool. */
    clientId: Type.String({ minLength: 1, maxLength: 256 }),
    /** Deployment IDs of this tool on that LMS; a launch from any other deployment is refused. */
    deploymentIds: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, uniqueItems: true }),
    /** Public keyset URL of the LMS (its JWKS), e.g. https://moodle.example.edu/mod/lti/certs.php. */
    jwksUrl: Url,
    /** Authentication request URL of the LMS, e.g. https://moodle.example.edu/mod/lti/auth.php. */
    authLoginUrl: Url,
    /** Access token URL of the LMS (services; kept so the registration is complete). */
    tokenUrl: Url,
    /** Origins allowed to frame Lectern's pages for this LMS; default: the issuer's and authLoginUrl's origins. */
    frameOrigins: Type.Optional(Type.Array(Origin, { minItems: 1 })),
  },
  { additionalProperties: false },
);

/** LTI role URIs -> Lectern roles. Context (course membership) roles are looked at before institution roles. */
export const LtiRolesSchema = Type.Object(
  {
    instructor: Type.Array(Type.String({ minLength: 1 }), {
      default: [
        `${LIS}/membership#Instructor`,
        `${LIS}/membership#TeachingAssistant`,
        `${LIS}/membership/Instructor#TeachingAssistant`,
        `${LIS}/institution/person#Instructor`,
        `${LIS}/institution/person#TeachingAssistant`,
      ],
    }),
    student: Type.Array(Type.String({ minLength: 1 }), {
      default: [`${LIS}/membership#Learner`, `${LIS}/institution/person#Learner`, `${LIS}/institution/person#Student`],
    }),
    /** A launch with neither: join as a guest, or be refused. */
    otherwise: Type.Union([Type.Literal('guest'), Type.Literal('refuse')], { default: 'guest' }),
  },
  { additionalProperties: false, default: {} },
);

export const LtiSchema = Type.Object(
  {
    /** Registered LMSes; empty (default) means LTI is off. */
    platforms: Type.Array(LtiPlatformSchema, { default: [] }),
    /** Directory of the tool's RSA key pair and room/state secret (created at first start, mode 0600). */
    keyDir: Type.String({ minLength: 1, default: '.lectern/lti' }),
    roles: LtiRolesSchema,
    /** Lifetime of the personal room link a launch hands the browser (reloads of the class page use it). */
    launchTtlSeconds: Type.Integer({ minimum: 60, default: 4 * 3600 }),
    /** An id_token issued longer ago than this is refused (the LMS signs it just before posting it). */
    maxTokenAgeSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
    /** Clock difference tolerated between Lectern and the LMS. */
    clockToleranceSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
  },
  { additionalProperties: false, default: {} },
);

export type LtiConfig = Static<typeof LtiSchema>;
export type LtiPlatformConfig = Static<typeof LtiPlatformSchema>;
export type LtiRolesConfig = Static<typeof LtiRolesSchema>;
