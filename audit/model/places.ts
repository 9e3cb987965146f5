// From a provider's region or zone string to a Location, through the one catalogue in config/residency.
import { countryOfLocation, findLocalZone, findRegion } from '../../config/residency/index.js';
import { operatorOf } from '../../config/residency/index.js';
import type { FlowOperator, Location } from './types.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0:0:0:0:0:0:0:1']);

/** Is this host name or address this machine? */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\./.test(host);
}

/** Is this an RFC 1918 / unique-local address (reachable only inside the site)? */
export function isPrivateAddress(host: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host) || /^f[cd][0-9a-f]{2}:/i.test(host);
}

/** Location of an AWS region code, Availability Zone or Local Zone name. */
export function awsLocation(where: string | undefined, basis: string): Location {
  if (!where) return { country: null, scope: 'unknown', place: 'unknown AWS region', basis };
  const zone = findLocalZone(where);
  if (zone) {
    return { country: zone.country, scope: 'zone', place: `${where} (Local Zone ${zone.city}, parent ${zone.parentRegion})`, basis };
  }
  const region = findRegion(where);
  if (region) return { country: region.country, scope: 'region', place: `${where} (${region.city})`, basis };
  const country = countryOfLocation(where);
  if (country) {
    const parent = findRegion(where.slice(0, -1));
    return { country, scope: 'zone', place: `${where} (${parent?.city ?? 'AWS'})`, basis };
  }
  return { country: null, scope: 'unknown', place: `${where} (not in the residency catalogue)`, basis };
}

/** Parent region of a Local Zone name, if it is one. */
export function localZoneParent(zone: string | undefined): { parentRegion: string; parentCountry: string; country: string } | undefined {
  if (!zone) return undefined;
  const lz = findLocalZone(zone);
  if (!lz) return undefined;
  const parent = findRegion(lz.parentRegion);
  return { parentRegion: lz.parentRegion, parentCountry: parent?.country ?? '??', country: lz.country };
}

/** AWS's worldwide control planes (IAM, Route 53, CloudFront...) live in us-east-1. */
export function awsGlobal(service: string, basis: string): Location {
  return { country: 'US', scope: 'global', place: `AWS global service: ${service} (control plane us-east-1)`, basis };
}

// Third-party services whose operator and jurisdiction are public knowledge. Anything else is
// "location unknown", which is already a finding: we do not guess from IP geolocation.
const KNOWN_SERVICES: Array<{ suffix: string; country: string; name: string }> = [
  { suffix: 'letsencrypt.org', country: 'US', name: "Let's Encrypt (ISRG)" },
  { suffix: 'api.pulumi.com', country: 'US', name: 'Pulumi Cloud' },
  { suffix: 'app.pulumi.com', country: 'US', name: 'Pulumi Cloud' },
  { suffix: 'google.com', country: 'US', name: 'Google' },
  { suffix: 'googleapis.com', country: 'US', name: 'Google' },
  { suffix: 'gstatic.com', country: 'US', name: 'Google' },
  { suffix: 'google-analytics.com', country: 'US', name: 'Google Analytics' },
  { suffix: 'googletagmanager.com', country: 'US', name: 'Google Tag Manager' },
  { suffix: 'gravatar.com', country: 'US', name: 'Gravatar (Automattic)' },
  { suffix: 'github.com', country: 'US', name: 'GitHub' },
  { suffix: 'githubusercontent.com', country: 'US', name: 'GitHub' },
  { suffix: 'cloudflare.com', country: 'US', name: 'Cloudflare' },
  { suffix: 'jsdelivr.net', country: 'US', name: 'jsDelivr CDN' },
  { suffix: 'unpkg.com', country: 'US', name: 'unpkg CDN' },
  { suffix: 'amplitude.com', country: 'US', name: 'Amplitude' },
  { suffix: 'jitsi.net', country: 'US', name: 'Jitsi (8x8)' },
  { suffix: 'npmjs.org', country: 'US', name: 'npm registry' },
  { suffix: 'microsoftonline.com', country: 'US', name: 'Microsoft Entra ID' },
  { suffix: 'okta.com', country: 'US', name: 'Okta' },
  { suffix: 'auth0.com', country: 'US', name: 'Auth0 (Okta)' },
];

/** Location of a host that is not the deployment's own. */
export function thirdPartyLocation(host: string, basis: string): Location {
  const known = KNOWN_SERVICES.find((s) => host === s.suffix || host.endsWith(`.${s.suffix}`));
  if (known) return { country: known.country, scope: 'third-party', place: `${host} (${known.name})`, basis };
  return { country: null, scope: 'third-party', place: `${host} (third party, location not derivable)`, basis };
}

/** The operator of a host that is not the deployment's own, by the public facts above; not established otherwise. */
export function thirdPartyOperator(host: string): FlowOperator {
  const known = KNOWN_SERVICES.find((s) => host === s.suffix || host.endsWith(`.${s.suffix}`));
  if (known) return { name: known.name, jurisdiction: known.country, basis: `${host} is operated by ${known.name}, a company under ${known.country} law` };
  return { name: `the operator of ${host}`, jurisdiction: null, basis: `nothing in the inputs says who operates ${host} or under which law` };
}

/** AWS's operator for a place (the European Sovereign Cloud is a German company; every other partition AWS, Inc.). */
export function awsOperator(place: string | undefined): FlowOperator {
  const op = operatorOf(place);
  return { name: op.name, jurisdiction: op.jurisdiction, basis: op.basis };
}

/** The university itself (its own hosts and domain): bound by the deployment country's law. */
export function universityOperator(country: string | null, basis: string): FlowOperator {
  return { name: 'the university (its own hosts)', jurisdiction: country, basis };
}

/** Is `host` in `country`-neutral terms "ours": listed, loopback, or under our own domain? */
export function isOwnHost(host: string, ownHosts: readonly string[], ownDomain: string | null): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isLoopback(h)) return true;
  if (ownHosts.includes(h)) return true;
  return ownDomain !== null && (h === ownDomain || h.endsWith(`.${ownDomain}`));
}

/** Host part of a URL-ish string (`https://x:1/y`, `turn:x:3478?transport=tcp`, `x`). */
export function hostOf(url: string): string | null {
  const m = /^(?:[a-z][a-z0-9+.-]*:)?(?:\/\/)?(\[[0-9a-f:]+\]|[^:/?#\s]+)/i.exec(url.trim());
  return m?.[1] ? m[1].toLowerCase().replace(/^\[|\]$/g, '') : null;
}
