// Every check LTI 1.3 (and the 1EdTech Security Framework) asks of a resource link launch, in one
// place: RS256 signature against the platform's published keys, iss, aud/azp, exp/iat, the nonce of
// this browser's login (and only once), then the LTI claims themselves, each named when wrong.
import { jwtVerify, errors, type JWTPayload } from 'jose';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { LtiConfig } from '../../config/lti.js';
import { LtiError } from './LtiError.js';
import type { PendingLaunch } from './LaunchStates.js';
import type { NonceStore } from './NonceStore.js';
import type { Platform, Platforms } from './Platforms.js';

const CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';
const DL_CLAIM = 'https://purl.imsglobal.org/spec/lti-dl/claim/';
const Id = Type.String({ minLength: 1, maxLength: 255 });
const Text = Type.String({ maxLength: 1024 });

// Open objects: LMSes add claims of their own (custom, lis, ext, platform...). The claims Lectern
// reads are typed and required where the specification requires them.
const LaunchClaimsSchema = Type.Object({
  sub: Id,
  nonce: Type.String(),
  [`${CLAIM}message_type`]: Type.Literal('LtiResourceLinkRequest'),
  [`${CLAIM}version`]: Type.Literal('1.3.0'),
  [`${CLAIM}deployment_id`]: Id,
  [`${CLAIM}target_link_uri`]: Type.String({ maxLength: 2048 }),
  [`${CLAIM}resource_link`]: Type.Object({ id: Id, title: Type.Optional(Text) }),
  [`${CLAIM}roles`]: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 100 }),
  [`${CLAIM}context`]: Type.Optional(Type.Object({ id: Id, title: Type.Optional(Text), label: Type.Optional(Text) })),
  name: Type.Optional(Text),
  given_name: Type.Optional(Text),
  family_name: Type.Optional(Text),
  azp: Type.Optional(Type.String()),
});
const checkClaims = TypeCompiler.Compile(LaunchClaimsSchema);
type RawClaims = Static<typeof LaunchClaimsSchema>;

// Deep Linking (an instructor adds a Lectern class to a course): no resource link yet, but where to
// send the chosen item back and what the LMS accepts there.
const DeepLinkingClaimsSchema = Type.Object({
  sub: Id,
  nonce: Type.String(),
  [`${CLAIM}message_type`]: Type.Literal('LtiDeepLinkingRequest'),
  [`${CLAIM}version`]: Type.Literal('1.3.0'),
  [`${CLAIM}deployment_id`]: Id,
  [`${CLAIM}roles`]: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 100 }),
  [`${CLAIM}context`]: Type.Optional(Type.Object({ id: Id, title: Type.Optional(Text) })),
  [`${DL_CLAIM}deep_linking_settings`]: Type.Object({
    deep_link_return_url: Type.String({ minLength: 1, maxLength: 2048 }),
    accept_types: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 }),
    accept_presentation_document_targets: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 }),
    data: Type.Optional(Type.String({ maxLength: 4096 })),
  }),
  azp: Type.Optional(Type.String()),
});
const checkDeepLinking = TypeCompiler.Compile(DeepLinkingClaimsSchema);

/** What a verified Deep Linking request says. */
export interface VerifiedDeepLinking {
  kind: 'deepLinking';
  platform: Platform;
  issuer: string;
  deploymentId: string;
  subject: string;
  roles: string[];
  contextTitle: string | undefined;
  /** Where the chosen content item is posted back (checked to be one of the LMS's own origins). */
  returnUrl: URL;
  /** Whether the LMS accepts an LTI resource link there. */
  acceptsResourceLink: boolean;
  /** Opaque value the LMS wants back unchanged. */
  data: string | undefined;
}

/** What a verified launch says, in Lectern's words. */
export interface VerifiedLaunch {
  kind: 'resourceLink';
  platform: Platform;
  issuer: string;
  deploymentId: string;
  /** The LMS's opaque user id (`sub`). */
  subject: string;
  roles: string[];
  contextId: string | undefined;
  contextTitle: string | undefined;
  resourceLinkId: string;
  resourceLinkTitle: string | undefined;
  /** `name`, else `given_name family_name`, as the LMS sent it (not yet checked for display). */
  name: string | undefined;
}

/** Verifies id_tokens posted to the launch URL. */
export class LaunchVerifier {
  readonly #platforms: Platforms;
  readonly #nonces: NonceStore;
  readonly #config: LtiConfig;

  constructor(platforms: Platforms, nonces: NonceStore, config: LtiConfig) {
    this.#platforms = platforms;
    this.#nonces = nonces;
    this.#config = config;
  }

  /** Verify `idToken` for the login `pending` started. Throws LtiError naming what is wrong. */
  async verify(idToken: string, pending: PendingLaunch): Promise<VerifiedLaunch | VerifiedDeepLinking> {
    const platform = this.#platforms.find(pending.issuer, pending.clientId);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, platform.keys, {
        algorithms: ['RS256'],
        issuer: platform.issuer,
        audience: platform.clientId,
        maxTokenAge: this.#config.maxTokenAgeSeconds,
        clockTolerance: this.#config.clockToleranceSeconds,
        requiredClaims: ['iat', 'exp', 'nonce', 'sub'],
      }));
    } catch (error) {
      throw tokenError(error);
    }
    // With several audiences the token must say which one it was issued for (OIDC Core 3.1.3.7).
    const multipleAudiences = Array.isArray(payload.aud) && payload.aud.length > 1;
    if (multipleAudiences && payload.azp === undefined) throw new LtiError('invalid_token', 'the launch names several audiences but no authorized party (azp)');
    if (payload.azp !== undefined && payload.azp !== platform.clientId) throw new LtiError('invalid_token', 'the launch was issued for another tool (azp)');
    if (payload.nonce !== pending.nonce) throw new LtiError('replayed', 'this launch belongs to another sign-in (its nonce is not the one this browser asked for)');
    // Only after the signature: otherwise anyone could burn other people's nonces.
    if (!this.#nonces.use(pending.nonce)) throw new LtiError('replayed', 'this launch was already used once');

    if (payload[`${CLAIM}message_type`] === 'LtiDeepLinkingRequest') return deepLinking(platform, payload);
    const claims: RawClaims = checked(checkClaims, payload);
    const deploymentId = registeredDeployment(platform, claims[`${CLAIM}deployment_id`]);
    const context = claims[`${CLAIM}context`];
    const resourceLink = claims[`${CLAIM}resource_link`];
    const given = [claims.given_name, claims.family_name].filter((p) => p !== undefined && p.trim() !== '').join(' ');
    return {
      kind: 'resourceLink',
      platform,
      issuer: platform.issuer,
      deploymentId,
      subject: claims.sub,
      roles: claims[`${CLAIM}roles`],
      contextId: context?.id,
      contextTitle: context?.title,
      resourceLinkId: resourceLink.id,
      resourceLinkTitle: resourceLink.title,
      name: claims.name?.trim() || given || undefined,
    };
  }
}

function deepLinking(platform: Platform, payload: JWTPayload): VerifiedDeepLinking {
  const claims = checked(checkDeepLinking, payload);
  const deploymentId = registeredDeployment(platform, claims[`${CLAIM}deployment_id`]);
  const settings = claims[`${DL_CLAIM}deep_linking_settings`];
  let returnUrl: URL;
  try {
    returnUrl = new URL(settings.deep_link_return_url);
  } catch {
    throw new LtiError('invalid_token', 'the Deep Linking return URL is not a URL');
  }
  // The signed answer goes only back to the LMS that asked, never to a URL a token merely names.
  const own = new Set([new URL(platform.issuer).origin, platform.authLoginUrl.origin, ...platform.frameOrigins]);
  if (!own.has(returnUrl.origin)) throw new LtiError('invalid_token', 'the Deep Linking return URL is not on the LMS’s own origin');
  return {
    kind: 'deepLinking',
    platform,
    issuer: platform.issuer,
    deploymentId,
    subject: claims.sub,
    roles: claims[`${CLAIM}roles`],
    contextTitle: claims[`${CLAIM}context`]?.title,
    returnUrl,
    acceptsResourceLink: settings.accept_types.includes('ltiResourceLink'),
    data: settings.data,
  };
}

function checked<T extends TSchema>(check: TypeCheck<T>, payload: JWTPayload): Static<T> {
  if (check.Check(payload)) return payload;
  const first = check.Errors(payload).First();
  const claim = first ? pointerToClaim(first.path) : 'claims';
  throw new LtiError('invalid_token', `the launch claim ${claim} is missing or wrong${first ? ` (${first.message})` : ''}`);
}

function registeredDeployment(platform: Platform, deploymentId: string): string {
  if (!platform.deploymentIds.has(deploymentId)) throw new LtiError('unknown_deployment', 'this deployment of Lectern in your LMS is not registered with Lectern');
  return deploymentId;
}

/** `/https:~1~1purl…~1claim~1roles/0` -> `https://purl…/claim/roles/0` (JSON pointer unescaped). */
function pointerToClaim(path: string): string {
  return path.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~')).join('/') || 'claims';
}

function tokenError(error: unknown): LtiError {
  if (error instanceof LtiError) return error;
  if (error instanceof errors.JWTExpired) return new LtiError('invalid_token', 'the launch has expired: open the activity from the LMS again', { cause: error });
  if (error instanceof errors.JWSSignatureVerificationFailed) return new LtiError('invalid_token', 'the launch signature does not verify against the LMS’s published keys', { cause: error });
  if (error instanceof errors.JWKSNoMatchingKey) return new LtiError('invalid_token', 'the launch is signed with a key the LMS does not publish', { cause: error });
  if (error instanceof errors.JOSEAlgNotAllowed) return new LtiError('invalid_token', 'the launch is not signed with RS256', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) return new LtiError('invalid_token', `the launch claim ${error.claim} is not valid (${error.reason})`, { cause: error });
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return new LtiError('invalid_token', 'the launch token is malformed', { cause: error });
  // Key set timeouts, HTTP errors and unreachable hosts: the LMS's fault, not the person's.
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError)) {
    return new LtiError('platform_unreachable', 'Lectern could not fetch the LMS’s published keys; try again shortly', { cause: error });
  }
  return new LtiError('invalid_token', 'the launch token is not valid', { cause: error });
}
