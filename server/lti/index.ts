// LTI 1.3: a course in the university's LMS opens its Lectern class; the LMS says who teaches.
export { LtiTool, type LaunchResult, type ClassLaunch, type DeepLinkingAnswer, type LoginInitiation } from './LtiTool.js';
export { ltiRoutes, LTI_PATHS, type LtiRoutesOptions } from './routes.js';
export { LtiError, type LtiErrorCode } from './LtiError.js';
export { roleFromLaunch } from './roles.js';
export { LTI_KEY_FILES } from './ToolKeys.js';
