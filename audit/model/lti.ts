// LTI 1.3 flows: each registered LMS learns who opens which class and when (the launch), and
// Lectern fetches its public keys (the JWKS) from wherever the LMS publishes them. Both are listed
// with a location derived like the OIDC issuer's: loopback, the university's own domain (not
// derivable further), or a third party placed by its known service or left unknown (and flagged).
import type { LecternConfig } from '../../config/index.js';
import type { Flow, FlowOperator, Location } from './types.js';
import { hostOf, isLoopback, thirdPartyLocation, thirdPartyOperator, universityOperator } from './places.js';

/** What ltiFlows needs from buildModel. */
export interface LtiFlowContext {
  /** The deployment's country (loopback flows are in it). */
  country: string | null;
  /** Whether a host is the deployment's own (or under its domain). */
  ours: (host: string) => boolean;
  /** Where the config came from, for `seenIn`. */
  configSrc: string;
}

/** Two flows per registered platform: the launch (issuer) and the key set (JWKS host). */
export function ltiFlows(config: LecternConfig | undefined, context: LtiFlowContext): Array<Omit<Flow, 'id' | 'active'>> {
  const flows: Array<Omit<Flow, 'id' | 'active'>> = [];
  (config?.lti?.platforms ?? []).forEach((platform, index) => {
    const key = `lti.platforms.${index}`;
    const issuerHost = hostOf(platform.issuer);
    const jwksHost = hostOf(platform.jwksUrl);
    if (issuerHost) {
      flows.push({
        kind: 'sign-in',
        label: `LMS launch (LTI ${issuerHost})`,
        location: locate(issuerHost, `${key}.issuer ${platform.issuer}`, "the university's own LMS", context),
        operator: operate(issuerHost, `${key}.issuer`, context),
        readers: 'the LMS: who opens which class, when, with which course role',
        encryption: platform.issuer.startsWith('https://') ? 'TLS' : 'none: plain HTTP (loopback only)',
        retention: 'per the LMS',
        personalData: true,
        seenIn: [context.configSrc],
      });
    }
    if (jwksHost) {
      flows.push({
        kind: 'sign-in',
        label: `LMS keys (LTI JWKS ${jwksHost})`,
        location: locate(jwksHost, `${key}.jwksUrl ${platform.jwksUrl}`, "the university's own LMS key set", context),
        operator: operate(jwksHost, `${key}.jwksUrl`, context),
        readers: 'the key set host: the Lectern server’s address and when it fetches keys',
        encryption: platform.jwksUrl.startsWith('https://') ? 'TLS' : 'none: plain HTTP (loopback only)',
        retention: 'per the key set host',
        personalData: false,
        seenIn: [context.configSrc],
      });
    }
  });
  return flows;
}

function operate(host: string, key: string, context: LtiFlowContext): FlowOperator {
  if (isLoopback(host) || context.ours(host)) return universityOperator(context.country, `${key} ${host} is the university's own`);
  return thirdPartyOperator(host);
}

function locate(host: string, basis: string, ownPlace: string, context: LtiFlowContext): Location {
  if (isLoopback(host)) return { country: context.country, scope: 'loopback', place: 'this machine', basis };
  if (context.ours(host)) {
    return { country: null, scope: 'unknown', place: `${host} (${ownPlace})`, basis: `${basis} is under the deployment's own domain; where it is hosted is not derivable` };
  }
  return thirdPartyLocation(host, basis);
}
