// Lectern as an LTI 1.3 tool: the login initiation and the launch, from request parameters to the
// room link the browser lands on. HTTP lives in routes.ts; this file decides.
//
// A verified launch ends the way every other way in ends: a personal room link, signed by the
// Authenticator like a link from POST /admin/tokens, so who may do what stays decided in one place
// (the join handler and the roles table) and a reload of the class page keeps working.
import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { Value } from '@sinclair/typebox/value';
import type { LecternConfig } from '../../config/index.js';
import { RoomName } from '../../protocol/index.js';
import { isDisplayName, isRoomTitle, type Authenticator, type Role } from '../auth/index.js';
import type { ClassRecorder } from '../rooms/ClassRecord.js';
import { LaunchStates, type PendingLaunch } from './LaunchStates.js';
import { LaunchVerifier, type VerifiedDeepLinking, type VerifiedLaunch } from './LaunchVerifier.js';
import { LtiError } from './LtiError.js';
import { NonceStore } from './NonceStore.js';
import { Platforms } from './Platforms.js';
import { roleFromLaunch } from './roles.js';
import { ToolKeys } from './ToolKeys.js';

const LTI_CLAIM = 'https://purl.imsglobal.org/spec/lti/claim/';
const DL_CLAIM = 'https://purl.imsglobal.org/spec/lti-dl/claim/';

/** The parameters of a login initiation Lectern uses (after schema validation). */
export interface LoginInitiation {
  iss: string;
  login_hint: string;
  target_link_uri: string;
  lti_message_hint?: string | undefined;
  client_id?: string | undefined;
  lti_deployment_id?: string | undefined;
}

/** Where a verified launch sends the browser, and who it is there. */
export interface ClassLaunch {
  kind: 'class';
  room: string;
  role: Role;
  /** `/r/<room>#token=<personal room link>` */
  location: string;
}

/** A Deep Linking answer: a signed content item the browser posts back to the LMS. */
export interface DeepLinkingAnswer {
  kind: 'deepLinking';
  returnUrl: URL;
  /** The LtiDeepLinkingResponse, signed with the tool's key (verified by the LMS against our JWKS). */
  jwt: string;
  title: string;
}

/** What a launch comes to. */
export type LaunchResult = ClassLaunch | DeepLinkingAnswer;

/** The LTI tool: registrations, keys, state cookies, verification, and the room a launch opens. */
export class LtiTool {
  readonly #config: LecternConfig['lti'];
  readonly #authenticator: Authenticator;
  readonly #recorder: ClassRecorder;
  readonly #log: FastifyBaseLogger;
  readonly #roomKey: Buffer;
  readonly #subjectKey: Buffer;
  readonly #verifier: LaunchVerifier;
  /** The registered LMSes. */
  readonly platforms: Platforms;
  /** The tool's key pair (its public half is served at /.well-known/jwks.json). */
  readonly keys: ToolKeys;
  /** State cookies between login initiation and launch. */
  readonly states: LaunchStates;

  private constructor(config: LecternConfig, authenticator: Authenticator, recorder: ClassRecorder, log: FastifyBaseLogger, platforms: Platforms, keys: ToolKeys) {
    this.#config = config.lti;
    this.#authenticator = authenticator;
    this.#recorder = recorder;
    this.#log = log;
    this.platforms = platforms;
    this.keys = keys;
    this.#roomKey = keys.derive('room-name');
    this.#subjectKey = keys.derive('subject');
    this.states = new LaunchStates(keys.derive('state-cookie'));
    // A used nonce must stay refused for as long as its token could still be accepted.
    const nonces = new NonceStore(config.lti.maxTokenAgeSeconds + 2 * config.lti.clockToleranceSeconds + 60);
    this.#verifier = new LaunchVerifier(platforms, nonces, config.lti);
  }

  /** The tool, or undefined when no LMS is registered. Throws at start-up for a registration or key that cannot work. */
  static async create(config: LecternConfig, authenticator: Authenticator, recorder: ClassRecorder, log: FastifyBaseLogger): Promise<LtiTool | undefined> {
    if (config.lti.platforms.length === 0) return undefined;
    const platforms = Platforms.create(config.lti.platforms);
    if (!authenticator.canIssueTokens) {
      throw new Error('lti needs Lectern to sign room links: set auth.tokenSecret (auth.tokens.trustedKeys alone issues none)');
    }
    if (config.lti.launchTtlSeconds > config.auth.tokens.maxTtlSeconds) {
      throw new Error(`lti.launchTtlSeconds (${config.lti.launchTtlSeconds}) exceeds auth.tokens.maxTtlSeconds (${config.auth.tokens.maxTtlSeconds})`);
    }
    const keys = await ToolKeys.load(resolve(config.lti.keyDir));
    return new LtiTool(config, authenticator, recorder, log, platforms, keys);
  }

  /** The platform's authentication request URL for a login initiation, and the state to bind to the browser. */
  async beginLogin(login: LoginInitiation, redirectUri: string): Promise<{ url: URL; pending: PendingLaunch; sealed: string }> {
    const platform = this.platforms.find(login.iss, login.client_id);
    if (login.lti_deployment_id !== undefined && !platform.deploymentIds.has(login.lti_deployment_id)) {
      throw new LtiError('unknown_deployment', 'this deployment of Lectern in your LMS is not registered with Lectern');
    }
    let target: URL;
    try {
      target = new URL(login.target_link_uri);
    } catch {
      throw new LtiError('invalid_request', 'target_link_uri is not a URL');
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new LtiError('invalid_request', 'target_link_uri must be an http(s) URL');
    const { pending, sealed } = await this.states.begin(platform.issuer, platform.clientId);
    const url = new URL(platform.authLoginUrl);
    const params: Record<string, string> = {
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: platform.clientId,
      redirect_uri: redirectUri,
      login_hint: login.login_hint,
      state: pending.state,
      nonce: pending.nonce,
    };
    if (login.lti_message_hint !== undefined) params.lti_message_hint = login.lti_message_hint;
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return { url, pending, sealed };
  }

  /**
   * Verify a launch and mint the link to the class it opens, or (Deep Linking) the signed item that
   * adds a Lectern class launched at `launchUrl` to the course. Throws LtiError.
   */
  async launch(idToken: string, pending: PendingLaunch, launchUrl: string): Promise<LaunchResult> {
    const verified = await this.#verifier.verify(idToken, pending);
    if (verified.kind === 'deepLinking') return this.#deepLink(verified, launchUrl);
    const launch = verified;
    const role = roleFromLaunch(launch.roles, this.#config.roles);
    if (!role) throw new LtiError('forbidden', 'your role in this course does not give access to its Lectern class');
    const room = this.roomFor(launch);
    const subject = this.#subjectFor(launch);
    const displayName = fitting(launch.name, 64, isDisplayName);
    const roomTitle = fitting(launch.contextTitle ?? launch.resourceLinkTitle, 120, isRoomTitle);
    const token = await this.#authenticator.issueRoomToken({
      room,
      role,
      subject,
      ttlSeconds: this.#config.launchTtlSeconds,
      ...(displayName !== undefined ? { displayName } : {}),
      ...(roomTitle !== undefined ? { roomTitle } : {}),
    });
    this.#recorder.record({ action: 'lti.launched', room, actor: subject, actorRole: role, details: { issuer: launch.issuer, deployment: launch.deploymentId } });
    this.#log.info({ issuer: launch.issuer, deployment: launch.deploymentId, role, room }, 'LTI launch');
    return { kind: 'class', room, role, location: `/r/${encodeURIComponent(room)}#token=${token}` };
  }

  // LTI Deep Linking 2.0: one ltiResourceLink item pointing at the launch URL. Each activity the LMS
  // then creates has its own resource link id, hence its own room.
  async #deepLink(request: VerifiedDeepLinking, launchUrl: string): Promise<DeepLinkingAnswer> {
    if (roleFromLaunch(request.roles, this.#config.roles) !== 'instructor') {
      throw new LtiError('forbidden', 'only the course’s instructors can add a Lectern class to it');
    }
    if (!request.acceptsResourceLink) throw new LtiError('invalid_request', 'the LMS does not accept an LTI activity here (accept_types has no ltiResourceLink)');
    const title = fitting(request.contextTitle === undefined ? 'Lectern class' : `Lectern class: ${request.contextTitle}`, 120, isRoomTitle) ?? 'Lectern class';
    const claims: Record<string, unknown> = {
      nonce: randomBytes(16).toString('base64url'),
      [`${LTI_CLAIM}message_type`]: 'LtiDeepLinkingResponse',
      [`${LTI_CLAIM}version`]: '1.3.0',
      [`${LTI_CLAIM}deployment_id`]: request.deploymentId,
      [`${DL_CLAIM}content_items`]: [{ type: 'ltiResourceLink', title, url: launchUrl }],
    };
    if (request.data !== undefined) claims[`${DL_CLAIM}data`] = request.data;
    const jwt = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.keys.publicJwk.kid!, typ: 'JWT' })
      .setIssuer(request.platform.clientId)
      .setAudience(request.platform.issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(this.keys.privateKey);
    // No room exists yet, so no class record: the launches of the new activity are recorded.
    this.#log.info({ issuer: request.issuer, deployment: request.deploymentId }, 'LTI Deep Linking: a Lectern class was offered to the course');
    return { kind: 'deepLinking', returnUrl: request.returnUrl, jwt, title };
  }

  /**
   * The room of a course activity: a keyed hash of issuer, context and resource link, so it is the
   * same for everyone launching that activity (and after a restart), and nobody can guess it.
   */
  roomFor(launch: Pick<VerifiedLaunch, 'issuer' | 'contextId' | 'resourceLinkId'>): string {
    const mac = createHmac('sha256', this.#roomKey).update([launch.issuer, launch.contextId ?? '', launch.resourceLinkId].join('\u0000')).digest('hex');
    const room = `lti-${mac.slice(0, 32)}`;
    // The room-name rule lives in protocol/; a derived name that broke it would be a bug here.
    if (!Value.Check(RoomName, room)) throw new Error(`derived room name breaks the room-name rule: ${room}`);
    return room;
  }

  // One person, one stable subject across launches; the LMS's own user id is not put in the link.
  #subjectFor(launch: Pick<VerifiedLaunch, 'issuer' | 'subject'>): string {
    const mac = createHmac('sha256', this.#subjectKey).update(`${launch.issuer}\u0000${launch.subject}`).digest('base64url');
    return `lti:${mac.slice(0, 32)}`;
  }
}

/** `value` trimmed and cut to `max` characters if it then passes `check`; else undefined (the person types a name). */
function fitting(value: string | undefined, max: number, check: (v: unknown) => boolean): string | undefined {
  if (value === undefined) return undefined;
  const cut = [...value.trim()].slice(0, max).join('').trim();
  return check(cut) ? cut : undefined;
}
