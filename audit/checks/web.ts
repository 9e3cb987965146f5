// What a browser gets: TLS on, and a Content-Security-Policy that keeps the page on its own origin.
import { hostOf, isLoopback, isOwnHost } from '../model/places.js';
import { sharedDomainOf } from './sharedDomains.js';
import type { AuditInputs, DataFlowModel, Finding } from '../model/types.js';

/** Parse a CSP header into directive -> sources. */
export function parseCsp(header: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

const FETCH_DIRECTIVES = ['script-src', 'style-src', 'img-src', 'connect-src', 'font-src', 'media-src', 'frame-src', 'worker-src', 'manifest-src', 'object-src'];

/** Missing or weak Content-Security-Policy, from the live page headers and the runtime description. */
export function checkCsp(inputs: AuditInputs, model: DataFlowModel): Finding[] {
  if (!inputs.runtime) return [];
  const candidates: Array<[string | null, string]> = [];
  if (inputs.runtime.pageHeaders) candidates.push([inputs.runtime.pageHeaders.csp, `${inputs.runtime.source}/ (response header)`]);
  else candidates.push([inputs.runtime.runtime.http.contentSecurityPolicy, `${inputs.runtime.source} http.contentSecurityPolicy`]);
  const findings: Finding[] = [];
  for (const [header, where] of candidates) {
    if (!header) {
      findings.push({ rule: 'csp-missing', severity: 'high', title: 'No Content-Security-Policy: the page may load or send to any host', evidence: 'no Content-Security-Policy header', where });
      continue;
    }
    const csp = parseCsp(header);
    const problems: string[] = [];
    const effective = (d: string): string[] | undefined => csp.get(d) ?? csp.get('default-src');
    if (!csp.has('default-src')) problems.push('no default-src fallback');
    for (const d of ['script-src', 'connect-src']) {
      const sources = effective(d);
      if (!sources) problems.push(`${d} unrestricted`);
      else {
        const bad = sources.filter((s) => s === '*' || s === "'unsafe-inline'" || s === "'unsafe-eval'" || s === 'http:' || s === 'https:' || s === 'data:' || s === 'ws:' || s === 'wss:');
        if (bad.length > 0) problems.push(`${d} allows ${bad.join(' ')}`);
      }
    }
    for (const d of FETCH_DIRECTIVES) {
      for (const source of effective(d) ?? []) {
        if (source.startsWith("'") || /^[a-z]+:$/.test(source)) continue;
        const host = hostOf(source.replace(/^\*\./, ''));
        // A tunnel or shared-hosting domain is never the deployment's own, even when publicUrl is on it.
        if (host && (sharedDomainOf(host) || !isOwnHost(host, model.ownHosts, model.ownDomain))) problems.push(`${d} allows ${source}`);
      }
    }
    if (!csp.has('frame-ancestors')) problems.push('no frame-ancestors (the page can be framed)');
    if (problems.length > 0) {
      findings.push({ rule: 'csp-weak', severity: problems.some((p) => /script-src|connect-src|allows/.test(p)) ? 'high' : 'medium', title: 'Content-Security-Policy lets the page reach beyond its own origin', evidence: `${problems.join('; ')} — in: ${header}`, where });
    }
  }
  return findings;
}

/** TLS off anywhere a browser or the public could connect. */
export function checkTls(inputs: AuditInputs): Finding[] {
  const findings: Finding[] = [];
  const config = inputs.config?.config;
  if (config) {
    const url = config.http.publicUrl;
    const host = url ? hostOf(url) : null;
    if (url?.startsWith('http://') && host && !isLoopback(host)) {
      findings.push({ rule: 'tls-off', severity: 'high', title: 'The public URL is plain HTTP', evidence: `http.publicUrl = ${url}`, where: `${inputs.config!.source} http.publicUrl` });
    } else if (!url && !config.deployment && !isLoopback(config.http.host) && !config.http.trustProxy) {
      findings.push({ rule: 'tls-off', severity: 'high', title: 'Serves plain HTTP on a non-loopback address', evidence: `http.host = ${config.http.host}, no https publicUrl and no TLS-terminating proxy (http.trustProxy false)`, where: `${inputs.config!.source} http.host` });
    }
  }
  const runtime = inputs.runtime;
  if (runtime) {
    const listen = runtime.runtime.http.listen.host;
    const publicHost = runtime.runtime.http.publicUrl ? hostOf(runtime.runtime.http.publicUrl) : null;
    if (runtime.runtime.http.tls === 'none' && (!isLoopback(listen) || (publicHost && !isLoopback(publicHost)))) {
      findings.push({ rule: 'tls-off', severity: 'high', title: 'The live server serves without TLS', evidence: `http.tls = none; listening on ${listen}:${runtime.runtime.http.listen.port}${publicHost ? `, public host ${publicHost}` : ''}`, where: `${runtime.source} http.tls` });
    }
    const sourceHost = hostOf(runtime.source);
    if (runtime.source.startsWith('http://') && sourceHost && !isLoopback(sourceHost)) {
      findings.push({ rule: 'tls-off', severity: 'high', title: 'The server answered over plain HTTP', evidence: `audited at ${runtime.source}`, where: runtime.source });
    }
    if (runtime.source.startsWith('https://') && runtime.pageHeaders && !runtime.pageHeaders.hsts) {
      findings.push({ rule: 'hsts-missing', severity: 'low', title: 'No Strict-Transport-Security header', evidence: 'browsers may try plain HTTP first', where: `${runtime.source}/` });
    }
  }
  return findings;
}
