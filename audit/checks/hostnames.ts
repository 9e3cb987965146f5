// Third parties: every hostname the server hands out or the client bundle references must be the
// deployment's own. This is what would have caught Jitsi's and LiveKit's default public STUN.
import { hostOf, isOwnHost } from '../model/places.js';
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
    if (isOwnHost(host, model.ownHosts, model.ownDomain)) continue;
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
  const mine = (host: string): boolean => isOwnHost(host, model.ownHosts, model.ownDomain);
  // Server-side: the public URL (a misconfigured publicUrl points users elsewhere).
  for (const [url, where] of [
    [inputs.config?.config.http.publicUrl, `${inputs.config?.source} http.publicUrl`],
    [inputs.runtime?.runtime.http.publicUrl, `${inputs.runtime?.source} http.publicUrl`],
    [inputs.config?.config.auth.oidc?.redirectUrl, `${inputs.config?.source} auth.oidc.redirectUrl`],
  ] as const) {
    const host = url ? hostOf(url) : null;
    if (host && !mine(host)) findings.push({ rule: 'third-party-host', severity: 'high', title: `Public URL points at ${host}, not the deployment`, evidence: url!, where });
  }
  // Sign-in at someone else's identity provider: it learns who attends which class, and when.
  const issuer = inputs.config?.config.auth.oidc?.issuer;
  const issuerHost = issuer ? hostOf(issuer) : null;
  if (issuer && issuerHost && !mine(issuerHost)) {
    findings.push({ rule: 'third-party-host', severity: 'high', title: `Sign-in goes to ${issuerHost}, outside the deployment's domain`, evidence: `auth.oidc.issuer = ${issuer}: every participant's browser is sent there and it learns who joins when; use the university's own IdP (or accept this knowingly)`, where: `${inputs.config!.source} auth.oidc.issuer` });
  }
  // Client bundle: loaded by markup/CSS for sure; in code, possibly.
  const seen = new Set<string>();
  for (const ref of inputs.bundle?.references ?? []) {
    if (ref.context === 'comment' || mine(ref.host)) continue;
    const key = `${ref.host}|${ref.file}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const known = knownAs(ref.host);
    const realtime = /^(stuns?|turns?|wss?):/i.test(ref.url);
    const severity: Severity = ref.context === 'markup' || ref.context === 'css' || known || realtime ? 'high' : 'medium';
    findings.push({
      rule: 'third-party-host',
      severity,
      title: `Client ${ref.context === 'code' ? 'references' : 'loads'} ${ref.host}${known ? ` (${known})` : ''}`,
      evidence: `${ref.url}${ref.context === 'code' && !known && !realtime ? ' — in code; prove or disprove with the browser leak test' : ''}`,
      where: `${inputs.bundle!.dir}/${ref.file}:${ref.line}`,
    });
  }
  return findings;
}
