// OpenID Connect sign-in with the university's IdP: authorization code + PKCE + state + nonce, via
// openid-client. Discovery happens on the first sign-in, not at start-up, so Lectern starts (and
// guests and links work) while the IdP is down; a failed discovery is retried on the next sign-in.
import * as client from 'openid-client';
import type { FastifyBaseLogger } from 'fastify';
import type { OidcConfig } from '../../config/auth.js';
import { AuthError } from './AuthError.js';
import { isDisplayName, type Identity } from './Identity.js';
import { roleFromClaims } from './roleMapping.js';
import type { PendingLogin } from './SessionCookies.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Starts and finishes sign-ins against one IdP. */
export class OidcLogin {
  readonly #config: OidcConfig;
  readonly #log: FastifyBaseLogger;
  readonly #issuer: URL;
  readonly #insecureLoopback: boolean;
  #discovered: Promise<client.Configuration> | undefined;

  private constructor(config: OidcConfig, log: FastifyBaseLogger, issuer: URL, insecureLoopback: boolean) {
    this.#config = config;
    this.#log = log;
    this.#issuer = issuer;
    this.#insecureLoopback = insecureLoopback;
  }

  /** Check the configuration; throws at start-up for an http issuer that is not on this machine. */
  static async create(config: OidcConfig, log: FastifyBaseLogger): Promise<OidcLogin> {
    const issuer = new URL(config.issuer);
    // Plain http would hand codes and tokens to anyone on the path; on loopback there is no path.
    const insecureLoopback = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
    if (issuer.protocol !== 'https:' && !insecureLoopback) {
      throw new Error(`auth.oidc.issuer must be https (http is allowed only on loopback): ${config.issuer}`);
    }
    return new OidcLogin(config, log, issuer, insecureLoopback);
  }

  /** The IdP URL to send the browser to, and what to keep (in a signed cookie) until it comes back. */
  async begin(room: string, redirectUrl: string): Promise<{ url: URL; pending: PendingLogin }> {
    const configuration = await this.#configuration();
    const pending: PendingLogin = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      room,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUrl,
      scope: this.#config.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /** Exchange the code the IdP sent to `callbackUrl` and map the person to a role. Throws AuthError. */
  async complete(callbackUrl: URL, pending: PendingLogin): Promise<Identity> {
    const configuration = await this.#configuration();
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new Error('no ID token');
      claims = { ...idClaims };
      // Most IdPs put groups and names in userinfo rather than the ID token for the code flow.
      const missing = claims[this.#config.roleClaim] === undefined || claims[this.#config.displayNameClaim] === undefined;
      if (missing && configuration.serverMetadata().userinfo_endpoint) {
        const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        // The signed ID token wins where both say something.
        claims = { ...userinfo, ...claims };
      }
    } catch (error) {
      // The reason (state mismatch, IdP error, bad signature) goes to the log, not to the browser.
      this.#log.warn({ err: error }, 'OpenID Connect sign-in failed');
      throw new AuthError('unauthorized', 'sign-in with the identity provider failed');
    }
    const role = roleFromClaims(claims, this.#config);
    if (!role) throw new AuthError('forbidden', 'your account has no role in Lectern (not in an instructor or student group)');
    const identity: Identity = { subject: String(claims.sub), role, room: '*', via: 'oidc' };
    const name = claims[this.#config.displayNameClaim];
    if (isDisplayName(name)) identity.displayName = name;
    return identity;
  }

  #configuration(): Promise<client.Configuration> {
    this.#discovered ??= this.#discover().catch((error: unknown) => {
      this.#discovered = undefined;
      this.#log.error({ err: error, issuer: this.#config.issuer }, 'OpenID Connect discovery failed');
      throw error;
    });
    return this.#discovered;
  }

  async #discover(): Promise<client.Configuration> {
    const secret = this.#config.clientSecret;
    return client.discovery(
      this.#issuer,
      this.#config.clientId,
      secret,
      secret !== undefined ? client.ClientSecretBasic(secret) : client.None(),
      this.#insecureLoopback ? { execute: [client.allowInsecureRequests] } : undefined,
    );
  }
}
