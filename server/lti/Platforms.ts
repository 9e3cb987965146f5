// The registered LMSes. Every URL a registration names is a network destination Lectern will call
// (the key set) or send browsers to (the authentication request), so each is parsed with URL and must
// be https; plain http is accepted only for loopback, where there is no network path to listen on.
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { LtiPlatformConfig } from '../../config/lti.js';
import { LtiError } from './LtiError.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** One registered LMS, with its key set (fetched on first use, cached, refetched on an unknown `kid`). */
export interface Platform {
  readonly issuer: string;
  readonly clientId: string;
  readonly deploymentIds: ReadonlySet<string>;
  readonly authLoginUrl: URL;
  readonly jwksUrl: URL;
  readonly frameOrigins: readonly string[];
  /** jose's remote key set: cached 10 minutes, refetched (at most every 30 s) when a token names an unknown key. */
  readonly keys: JWTVerifyGetKey;
}

/** Parse and check one registration URL; throws at start-up for anything but https (or loopback http). */
export function registrationUrl(value: string, key: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${key} is not a URL: ${value}`);
  }
  const loopback = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !loopback) throw new Error(`${key} must be https (http is allowed only on loopback): ${value}`);
  if (url.username || url.password) throw new Error(`${key} must not carry credentials: ${value}`);
  return url;
}

/** Lookup of registrations by issuer and client id. */
export class Platforms {
  readonly #all: Platform[];

  private constructor(all: Platform[]) {
    this.#all = all;
  }

  /** Check every registration. Throws at start-up, naming the key, for a bad URL or a duplicate. */
  static create(configs: readonly LtiPlatformConfig[]): Platforms {
    const all: Platform[] = [];
    configs.forEach((config, index) => {
      const at = `lti.platforms.${index}`;
      registrationUrl(config.issuer, `${at}.issuer`);
      registrationUrl(config.tokenUrl, `${at}.tokenUrl`);
      const jwksUrl = registrationUrl(config.jwksUrl, `${at}.jwksUrl`);
      const authLoginUrl = registrationUrl(config.authLoginUrl, `${at}.authLoginUrl`);
      if (all.some((p) => p.issuer === config.issuer && p.clientId === config.clientId)) {
        throw new Error(`${at}: issuer ${config.issuer} with client id ${config.clientId} is registered twice`);
      }
      const frameOrigins = config.frameOrigins ?? [...new Set([new URL(config.issuer).origin, authLoginUrl.origin])];
      frameOrigins.forEach((origin, i) => registrationUrl(origin, `${at}.frameOrigins.${i}`));
      all.push({
        issuer: config.issuer,
        clientId: config.clientId,
        deploymentIds: new Set(config.deploymentIds),
        authLoginUrl,
        jwksUrl,
        frameOrigins,
        keys: createRemoteJWKSet(jwksUrl, { timeoutDuration: 5000 }),
      });
    });
    return new Platforms(all);
  }

  /** Every registration. */
  get all(): readonly Platform[] {
    return this.#all;
  }

  /** Origins that may frame Lectern's class pages (the LMSes'), deduplicated. */
  get frameOrigins(): string[] {
    return [...new Set(this.#all.flatMap((p) => p.frameOrigins))];
  }

  /**
   * The registration for a login initiation. Throws LtiError: unknown_platform when none matches, or
   * when the issuer has several client ids and the LMS did not say which (client_id is optional in LTI).
   */
  find(issuer: string, clientId: string | undefined): Platform {
    const candidates = this.#all.filter((p) => p.issuer === issuer && (clientId === undefined || p.clientId === clientId));
    if (candidates.length === 0) throw new LtiError('unknown_platform', 'this LMS (issuer and client ID) is not registered with Lectern');
    if (candidates.length > 1) throw new LtiError('unknown_platform', 'this LMS has several registrations: the login request must name its client_id');
    return candidates[0]!;
  }
}
