// Third parties: every hostname the server hands out or the client bundle references must be the
// deployment's own. This is what would have caught Jitsi's and LiveKit's default public STUN.
import { hostOf, isLoopback, isOwnHost } from '../model/places.js';
import { OWN_HOST, UNKNOWN_HOST } from '../sources/client/urls.js';
import { sharedDomainOf } from './sharedDomains.js';
import type { AuditInputs, DataFlowModel, Finding, Severity } from '../model/types.js';

// Hosts known to track, serve third-party assets or relay media; seen in the anchors' defaults.
const KNOWN_THIRD_PARTIES: Array<[suffix: string, what: string]> = [
  ['google-analytics.com', 'analytics'],
  ['googletagmanager.com', 'analytics'],
  ['amplitude.com', 'analytics'],
  ['matomo.cloud', 'analytics'],
  ['callstats.io', 'analytics'],
  ['gravatar.com', 'avatars'],
  ['giphy.com', 'GIFs'],
  ['fonts.googleapis.com', 'web fonts'],
  ['fonts.gstatic.com', 'web fonts'],
  ['googleapis.com', 'Google APIs'],
  ['cdnjs.cloudflare.com', 'CDN'],
  ['jsdelivr.net', 'CDN'],
  ['unpkg.com', 'CDN'],
  ['cloudfront.net', 'CDN'],
  ['firebaseio.com', 'Firebase'],
  ['dropbox.com', 'Dropbox'],
  ['youtube.com', 'YouTube'],
  ['l.google.com', 'public STUN'],
  ['jitsi.net', 'public STUN/TURN'],
  ['twilio.com', 'public STUN/TURN'],
];

function knownAs(host: string): string | undefined {
  return KNOWN_THIRD_PARTIES.find(([suffix]) => host === suffix || host.endsWith(`.${suffix}`))?.[1];
}

/** ICE servers handed to browsers must be the deployment's own TURN, nothing else. */
export function checkIceServers(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const servers: Array<{ url: string; where: string }> = [
    ...(inputs.config?.config.ice.servers ?? []).flatMap((s, i) => s.urls.map((url) => ({ url, where: `${inputs.config!.source} ice.servers[${i}]` }))),
    ...(inputs.runtime?.runtime.ice.servers ?? []).flatMap((s, i) => s.urls.map((url) => ({ url, where: `${inputs.runtime!.source} ice.servers[${i}]` }))),
    ...(inputs.config?.config.ice.turn?.urls ?? []).map((url) => ({ url, where: `${inputs.config!.source} ice.turn.urls` })),
    ...(inputs.runtime?.runtime.ice.turn?.urls ?? []).map((url) => ({ url, where: `${inputs.runtime!.source} ice.turn.urls` })),
  ];
  const findings: Finding[] = [];
  for (const { url, where } of servers) {
    const host = hostOf(url) ?? url;
    if (!sharedDomainOf(host) && isOwnHost(host, model.ownHosts, model.ownDomain)) continue;
    const known = knownAs(host);
    findings.push({
      rule: 'ice-server-not-own-turn',
      severity: 'high',
      title: `Browsers are told to contact ${host}${known ? ` (${known})` : ''}`,
      evidence: `${url}: every participant's IP address reaches ${host}${url.startsWith('stun') ? ' (a public STUN server)' : ''}; only the deployment's own TURN belongs here`,
      where,
    });
  }
  return findings;
}

/** Hostnames in server config, runtime and the built client that are not the deployment's own. */
export function checkForeignHostnames(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const findings: Finding[] = [];
  const mine = (host: string): boolean => !sharedDomainOf(host) && isOwnHost(host, model.ownHosts, model.ownDomain);
  // Server-side: the public URL (a misconfigured publicUrl points users elsewhere).
  for (const [url, where] of [
    [inputs.config?.config.http.publicUrl, `${inputs.config?.source} http.publicUrl`],
    [inputs.runtime?.runtime.http.publicUrl, `${inputs.runtime?.source} http.publicUrl`],
    [inputs.config?.config.auth.oidc?.redirectUrl, `${inputs.config?.source} auth.oidc.redirectUrl`],
  ] as const) {
    const host = url ? hostOf(url) : null;
    if (!host) continue;
    const shared = sharedDomainOf(host);
    if (shared) {
      findings.push({ rule: 'tunnel-host', severity: 'high', title: `Public URL is on ${shared.domain} (${shared.what}), not a host of the deployment's own`, evidence: `${url}: every participant's traffic passes through ${shared.what}'s servers, wherever they are, and the name belongs to the service, not the university`, where });
    } else if (!mine(host)) findings.push({ rule: 'third-party-host', severity: 'high', title: `Public URL points at ${host}, not the deployment`, evidence: url!, where });
  }
  // Sign-in at someone else's identity provider: it learns who attends which class, and when.
  const issuer = inputs.config?.config.auth.oidc?.issuer;
  const issuerHost = issuer ? hostOf(issuer) : null;
  if (issuer && issuerHost && !mine(issuerHost)) {
    findings.push({ rule: 'third-party-host', severity: 'high', title: `Sign-in goes to ${issuerHost}, outside the deployment's domain`, evidence: `auth.oidc.issuer = ${issuer}: every participant's browser is sent there and it learns who joins when; use the university's own IdP (or accept this knowingly)`, where: `${inputs.config!.source} auth.oidc.issuer` });
  }
  findings.push(...clientFindings(inputs, model));
  return findings;
}

/**
 * The built client: every URL whose host is not the deployment's own origin is high, in whatever
 * position it was found (markup, CSS, code, a comment); so is a network call whose destination the
 * reader could not work out. The browser leak test shows what one session contacts; this shows
 * what any session could. The page's own origin (`location`, relative URLs) is always ours; the
 * participant's loopback is not (it is their machine, not the deployment's), unless the deployment
 * itself is served on loopback.
 */
function clientFindings(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  const bundle = inputs.bundle;
  if (!bundle) return [];
  const own = (host: string): boolean => {
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    if (sharedDomainOf(h)) return false;
    if (model.ownHosts.includes(h)) return true;
    return !isLoopback(h) && model.ownDomain !== null && (h === model.ownDomain || h.endsWith(`.${model.ownDomain}`));
  };
  const findings: Finding[] = [];
  const byHostAndFile = new Map<string, { ref: (typeof bundle.references)[number]; count: number }>();
  for (const ref of bundle.references) {
    if (own(ref.host)) continue;
    const key = `${ref.host}|${ref.file}`;
    const seen = byHostAndFile.get(key);
    if (seen) seen.count++;
    else byHostAndFile.set(key, { ref, count: 1 });
  }
  for (const { ref, count } of byHostAndFile.values()) {
    const known = knownAs(ref.host);
    const shared = sharedDomainOf(ref.host);
    const what = known ?? shared?.what ?? (isLoopback(ref.host) ? "the participant's own machine" : undefined);
    const verb = ref.context === 'comment' ? 'names' : ref.context === 'code' ? 'references' : 'loads';
    findings.push({
      rule: 'third-party-host',
      severity: 'high' as Severity,
      title: `Client ${verb} ${ref.host}${what ? ` (${what})` : ''}`,
      evidence: `${ref.url} (${ref.how}${count > 1 ? `; ${count} places in this file` : ''})${ref.context === 'comment' ? ' — in a comment: the deployment ships code naming a host it does not run; strip it or serve it yourself' : ''}`,
      where: `${bundle.dir}/${ref.file}:${ref.line}`,
    });
  }
  for (const u of bundle.unresolved ?? []) {
    findings.push({
      rule: 'client-destination-unknown',
      severity: 'high',
      title: `Client calls ${u.sink} with a destination that cannot be worked out statically`,
      evidence: `argument: ${u.value.replaceAll(UNKNOWN_HOST, '<unknown>').replaceAll(OWN_HOST, '<own origin>')} — not proven to be the deployment's own origin; make it a relative URL or one built from location`,
      where: `${bundle.dir}/${u.file}:${u.line}`,
    });
  }
  for (const u of bundle.unreadable ?? []) {
    findings.push({ rule: 'client-file-unreadable', severity: 'medium', title: `Client file ${u.file} could not be parsed`, evidence: u.problem, where: `${bundle.dir}/${u.file}` });
  }
  return findings;
}
