// Lectern as an LTI 1.3 tool: the login initiation and the launch, from request parameters to the
// room link the browser lands on. HTTP lives in routes.ts; this file decides.
//
// A verified launch ends the way every other way in ends: a personal room link, signed by the
// Authenticator like a link from POST /admin/tokens, so who may do what stays decided in one place
// (the join handler and the roles table) and a reload of the class page keeps working.
import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { Value } from '@sinclair/typebox/value';
import type { LecternConfig } from '../../config/index.js';
import { RoomName } from '../../protocol/index.js';
import { isDisplayName, isRoomTitle, type Authenticator, type Role } from '../auth/index.js';
import type { ClassRecorder } from '../rooms/ClassRecord.js';
import { LaunchStates, type PendingLaunch } from './LaunchStates.js';
import { LaunchVerifier, type VerifiedLaunch } from './LaunchVerifier.js';
import { LtiError } from './LtiError.js';
import { NonceStore } from './NonceStore.js';
import { Platforms } from './Platforms.js';
import { roleFromLaunch } from './roles.js';
import { ToolKeys } from './ToolKeys.js';

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
export interface LaunchResult {
  room: string;
  role: Role;
  /** `/r/<room>#token=<personal room link>` */
  location: string;
}

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

  /** Verify a launch and mint the link to the class it opens. Throws LtiError. */
  async launch(idToken: string, pending: PendingLaunch): Promise<LaunchResult> {
    const launch = await this.#verifier.verify(idToken, pending);
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
    return { room, role, location: `/r/${encodeURIComponent(room)}#token=${token}` };
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
  #subjectFor(launch: VerifiedLaunch): string {
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
