// Inputs -> DataFlowModel. Every location comes from a provider region/zone (stack export, instance
// metadata, the residency catalogue's placement for a config) or from the host's configured country
// for on-premises servers; never from a label. What cannot be derived is marked unknown.
import { decidePlacement, GLOBAL_SERVICE_PREFIXES, type Placement } from '../../config/residency/index.js';
import type { AuditInputs, DataFlowModel, Flow, FlowKind, FlowOperator, HostSummary, Location } from './types.js';
import { awsGlobal, awsLocation, awsOperator, hostOf, isLoopback, isOwnHost, localZoneParent, thirdPartyLocation, thirdPartyOperator, universityOperator } from './places.js';
import { stackFacts, type HostFact, type StackFacts } from './stackFacts.js';
import { resourceFacts } from './resources.js';
import { jurisdictionNote } from './jurisdiction.js';
import { ltiFlows } from './lti.js';
import { clusterFlows } from './cluster.js';
import { recordingKeyFacts, recordingKeyFlows } from './recordingKeys.js';

/** The global AWS service a resource type belongs to, if any (the one list in config/residency). */
export function globalServiceOf(type: string): string | undefined {
  return GLOBAL_SERVICE_PREFIXES.find(([prefix]) => type.startsWith(prefix))?.[1];
}

/** The placement a config's deployment section asks for, or the reason it is refused. */
export function plannedPlacement(inputs: AuditInputs): { placement: Placement } | { refused: string[] } | undefined {
  const deployment = inputs.config?.config.deployment;
  if (!deployment) return undefined;
  try {
    return { placement: decidePlacement(deployment) };
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems;
    return { refused: Array.isArray(problems) ? problems.map(String) : [(err as Error).message] };
  }
}

/** Build the data-flow model from whatever inputs were given. */
export function buildModel(inputs: AuditInputs): DataFlowModel {
  const config = inputs.config?.config;
  const deployment = config?.deployment;
  const runtime = inputs.runtime?.runtime;
  const facts = inputs.stack ? stackFacts(inputs.stack.export) : undefined;
  const stackSrc = inputs.stack ? `stack export ${inputs.stack.source}` : '';
  const configSrc = inputs.config ? `config ${inputs.config.source}` : '';
  const runtimeSrc = inputs.runtime ? `live server ${inputs.runtime.source}` : '';

  // The country.
  let country: string | null = null;
  let countrySource: string | null = null;
  const outputCountry = inputs.stack?.export.outputs.country;
  if (deployment) [country, countrySource] = [deployment.country, `${configSrc} deployment.country`];
  else if (runtime?.country) [country, countrySource] = [runtime.country, `${runtimeSrc} country`];
  else if (typeof outputCountry === 'string' && /^[A-Z]{2}$/.test(outputCountry)) [country, countrySource] = [outputCountry, `${stackSrc} output country`];

  // Our own hosts.
  const ownDomain = deployment?.domain ?? domainOf(config?.http.publicUrl) ?? domainOf(runtime?.http.publicUrl) ?? null;
  const own = new Set<string>();
  const addHost = (value: string | undefined | null): void => {
    const host = value ? hostOf(value) : null;
    if (host) own.add(host);
  };
  addHost(config?.http.publicUrl);
  addHost(config?.media.announcedAddress);
  addHost(deployment?.turn.domain);
  addHost(runtime?.http.publicUrl);
  runtime?.media.announcedAddresses.forEach(addHost);
  facts?.publicIps.forEach(addHost);
  facts?.outputHosts.forEach(addHost);
  if (inputs.runtime) addHost(inputs.runtime.source);
  const ownHosts = [...own].sort();
  const siteDomain = ownDomain ? organisationDomain(ownDomain) : null;
  const ours = (host: string): boolean => isOwnHost(host, ownHosts, siteDomain);

  const planned = plannedPlacement(inputs);
  const placement = planned && 'placement' in planned ? planned.placement : undefined;
  const resources = inputs.stack ? resourceFacts(inputs.stack.export, country ? { country, acceptParentRegionControlPlane: deployment?.acceptParentRegionControlPlane === true } : null) : [];
  const flows: Flow[] = [];
  const shownUrns = new Set<string>();
  const add = (flow: Omit<Flow, 'id' | 'active' | 'operator'> & { active?: boolean; operator?: FlowOperator }): void => {
    const id = `${flow.kind}:${flow.label}`;
    const existing = flows.find((f) => f.kind === flow.kind && f.location.place === flow.location.place && f.label === flow.label);
    if (existing) {
      existing.seenIn = [...new Set([...existing.seenIn, ...flow.seenIn])];
      return;
    }
    flows.push({ ...flow, id, active: flow.active ?? true, operator: flow.operator ?? operatorFor(flow.location) });
  };
  // Every zone/region/global place comes from the AWS catalogue; hosts and loopback are the university's.
  function operatorFor(location: Location): FlowOperator {
    if (location.scope === 'zone' || location.scope === 'region' || location.scope === 'global') return awsOperator(location.place.split(' ')[0]);
    if (location.scope === 'host' || location.scope === 'loopback') return universityOperator(country, `${location.place}: run by the university itself`);
    if (location.scope === 'third-party') return thirdPartyOperator(location.place.split(' ')[0] ?? location.place);
    return { name: 'not established', jurisdiction: null, basis: `who operates ${location.place} is not derivable from the inputs` };
  }

  // Where the media (SFU/signalling) hosts run, the TURN hosts, and any other host: any number of each.
  const locate = (host: HostFact): { location: Location; seenIn: string } => ({ location: awsLocation(host.zone ?? host.resource.region, `${host.zoneSource} in the ${stackSrc}`), seenIn: stackSrc });
  const fallbackLocation = (): { location: Location; seenIn: string } => {
    if (runtime) {
      if (runtime.host.provider === 'aws') return { location: awsLocation(runtime.host.availabilityZone, 'instance metadata reported by the live server'), seenIn: runtimeSrc };
      if (runtime.host.provider === 'on-premises') {
        return {
          location: { country, scope: 'host', place: 'on-premises servers', basis: `on-premises host: the configured deployment country (${countrySource ?? 'none'})` },
          seenIn: runtimeSrc,
        };
      }
      return { location: { country, scope: 'loopback', place: 'this machine', basis: 'the live server reports a local host' }, seenIn: runtimeSrc };
    }
    if (placement) return { location: awsLocation(placement.availabilityZone, `planned placement for ${deployment!.country} from config/residency (not yet seen deployed)`), seenIn: configSrc };
    if (config && isLoopback(config.http.host) && isLoopback(config.media.listenIp)) {
      return { location: { country, scope: 'loopback', place: 'this machine (loopback only)', basis: 'http.host and media.listenIp are loopback addresses' }, seenIn: configSrc };
    }
    return { location: { country: null, scope: 'unknown', place: 'server host (location not derivable)', basis: 'no stack export, live server or deployment placement says where the server runs' }, seenIn: configSrc || runtimeSrc };
  };
  const mediaHosts = (facts?.hosts ?? []).filter((h) => h.role === 'media');
  const turnHosts = (facts?.hosts ?? []).filter((h) => h.role === 'turn');
  const otherHosts = (facts?.hosts ?? []).filter((h) => h.role === 'other');
  const medias = mediaHosts.length > 0 ? mediaHosts.map((h) => ({ ...locate(h), name: h.resource.name })) : [{ ...fallbackLocation(), name: undefined as string | undefined }];
  const turns = turnHosts.length > 0 ? turnHosts.map((h) => ({ ...locate(h), name: h.resource.name })) : medias;
  const sfu = medias[0]!;
  const hosts: HostSummary[] = (facts?.hosts ?? []).map((h) => ({ name: h.resource.name, role: h.role, location: locate(h).location, roleBasis: h.roleBasis }));
  const named = (base: string, list: ReadonlyArray<{ name: string | undefined }>, name: string | undefined): string => (list.length > 1 && name ? `${base} ${name}` : base);
  const localZone = localZoneParent(sfu.location.scope === 'zone' ? sfu.location.place.split(' ')[0] : undefined);
  const https = (config?.http.publicUrl?.startsWith('https://') ?? false) || (runtime ? runtime.http.tls !== 'none' : false) || !!deployment;
  const transport = https ? 'TLS (HTTPS/WSS)' : 'none: plain HTTP/WS';

  for (const m of medias) {
    add({ kind: 'media', label: named('Media (SFU)', medias, m.name), location: m.location, readers: 'participants of the room; the SFU host (it decrypts to forward)', encryption: 'DTLS-SRTP browser to SFU, hop by hop', retention: 'not stored; forwarded live', personalData: true, seenIn: [m.seenIn] });
    add({ kind: 'signalling', label: named('Signalling (WebSocket)', medias, m.name), location: m.location, readers: 'the Lectern server', encryption: transport, retention: 'in memory for the session', personalData: true, seenIn: [m.seenIn] });
  }
  // Redis on a media host (a Local Zone cluster): the registry and room directory are where that host is.
  for (const h of mediaHosts.filter(coordinationOnHost)) {
    add({ kind: 'storage', label: `Cluster coordination (Redis on media host ${h.resource.name})`, location: locate(h).location, readers: 'the media nodes (password); the host', encryption: `TLS in transit (the deployment's CA); in memory only, never written to disk; host volume ${h.rootEncrypted ? 'encrypted' : 'NOT encrypted'}`, retention: 'in memory while the nodes heartbeat (no snapshot, no AOF)', personalData: true, seenIn: [stackSrc] });
  }
  for (const h of otherHosts) {
    add({ kind: 'compute', label: `Host ${h.resource.name}`, location: locate(h).location, readers: 'whoever runs code on it; the AWS account', encryption: h.rootEncrypted ? 'encrypted root volume' : 'root volume encryption not shown', retention: 'whatever it keeps on disk', personalData: true, seenIn: [stackSrc] });
  }
  const chatStore = runtime?.storage.find((s) => s.kind === 'chat' && s.backend !== 'memory');
  add({ kind: 'chat', label: 'Chat', location: chatStore ? storageLocation(chatStore, sfu.location, runtimeSrc) : sfu.location, readers: 'participants of the room', encryption: transport, retention: chatStore ? days(chatStore.retentionDays) : 'in server memory only; never written to disk', personalData: true, seenIn: [sfu.seenIn], active: runtime?.features.chat ?? true });

  // Sign-in: the IdP sees who joins which class, and when.
  const issuer = config?.auth.oidc?.issuer;
  const issuerHost = issuer ? hostOf(issuer) : null;
  if (issuer && issuerHost) {
    const location: Location = isLoopback(issuerHost)
      ? { country, scope: 'loopback', place: 'this machine', basis: `auth.oidc.issuer ${issuer}` }
      : ours(issuerHost)
        ? { country: null, scope: 'unknown', place: `${issuerHost} (the university's own IdP)`, basis: `auth.oidc.issuer ${issuer} is under the deployment's own domain; where it is hosted is not derivable` }
        : thirdPartyLocation(issuerHost, `auth.oidc.issuer ${issuer}`);
    const operator = isLoopback(issuerHost) || ours(issuerHost) ? universityOperator(country, `auth.oidc.issuer ${issuer} is the university's own`) : thirdPartyOperator(issuerHost);
    add({ kind: 'sign-in', label: `Sign-in (OIDC ${issuerHost})`, location, operator, readers: 'the identity provider: who signs in, when, to which Lectern', encryption: 'TLS', retention: 'per the identity provider', personalData: true, seenIn: [configSrc] });
  }

  // LTI: each registered LMS (launch) and where its key set is fetched from.
  for (const flow of ltiFlows(config, { country, ours, configSrc })) add(flow);
  // Every node of the live cluster: a flow at its registered place (outside the country: a finding).
  if (inputs.cluster) for (const flow of clusterFlows(inputs.cluster.registry, inputs.cluster.source)) add(flow);

  // TURN: only ours, and only when there is one.
  const hasTurn = !!deployment || (config?.ice.servers ?? []).some((s) => s.urls.some((u) => /^turns?:/.test(u) && ours(hostOf(u) ?? ''))) || (runtime?.ice.servers ?? []).some((s) => s.urls.some((u) => /^turns?:/.test(u) && ours(hostOf(u) ?? '')));
  for (const t of turns) {
    add({ kind: 'turn', label: named('TURN relay (coturn)', turns, t.name), location: t.location, readers: 'nobody: relays DTLS-SRTP it cannot decrypt', encryption: 'media stays DTLS-SRTP; TURN over TLS available', retention: 'not stored', personalData: true, seenIn: [t.seenIn], active: hasTurn });
  }

  addStorageFlows('recordings', 'Recordings');
  // The keys wrapping recordings' data keys, each at its place (the stack's are not drawn twice).
  const keyFacts = recordingKeyFacts(inputs);
  for (const fact of keyFacts) if (fact.urn) shownUrns.add(fact.urn);
  for (const flow of recordingKeyFlows(keyFacts, sfu.location)) add(flow);
  addStorageFlows('logs', 'Logs');
  addStorageFlows('audit-log', 'Audit log');

  // Metrics.
  if (runtime) add({ kind: 'metrics', label: 'Metrics (Prometheus endpoint)', location: sfu.location, readers: 'whoever can scrape the endpoint (admins)', encryption: transport, retention: 'kept by the scraper', personalData: false, seenIn: [runtimeSrc], active: runtime.features.metrics ?? false });
  const controlRegions = facts?.hosts.length ? [...new Set(facts.hosts.map((h) => h.resource.region))] : [placement?.providerRegion];
  for (const controlRegion of controlRegions) {
    if (!controlRegion || !(facts?.hosts.length || placement)) continue;
    add({ kind: 'metrics', label: 'EC2 metrics (CloudWatch)', location: awsLocation(controlRegion, `CloudWatch keeps EC2 metrics in the provider region (${facts ? stackSrc : configSrc})`), readers: 'the AWS account', encryption: 'AWS-managed', retention: '15 months (CloudWatch fixed)', personalData: false, seenIn: [facts ? stackSrc : configSrc] });
  }

  // Control plane: every region the stack calls, and each global service it uses.
  if (facts && inputs.stack) {
    const regions = new Map<string, string>();
    for (const r of inputs.stack.export.resources) {
      if (!r.type.startsWith('aws:') || globalServiceOf(r.type)) continue;
      if (r.region && !regions.has(r.region)) regions.set(r.region, r.regionSource);
    }
    for (const [region, source] of regions) {
      add({ kind: 'control-plane', label: `AWS API ${region}`, location: awsLocation(region, source), readers: 'the AWS account; AWS', encryption: 'TLS to the AWS API', retention: 'while the resources exist', personalData: false, seenIn: [stackSrc], ...(localZone?.parentRegion === region ? { caveat: `control plane of the Local Zone, in ${localZone.parentCountry}` } : {}) });
    }
    for (const r of inputs.stack.export.resources) {
      const service = globalServiceOf(r.type);
      if (!service) continue;
      const kind: FlowKind = service === 'Route 53' ? 'dns' : 'control-plane';
      add({ kind, label: `${service} metadata`, location: awsGlobal(service, `${r.type} in the ${stackSrc}`), readers: 'the AWS account; AWS', encryption: 'AWS-managed', retention: 'while the resources exist', personalData: false, seenIn: [stackSrc] });
    }
    // Data at rest is personal until the deployment proves otherwise: every stored resource is a flow,
    // whatever its name or tags say. A bucket's own settings follow the bucket and are not drawn twice.
    for (const fact of resources) {
      const c = fact.classification;
      if (c.role !== 'stores' || shownUrns.has(fact.urn) || /^aws:s3\/bucket(?!V2:)[A-Z]/.test(fact.type)) continue;
      const redis = coordinationStoreOf(inputs.stack.export.resources.find((r) => r.urn === fact.urn));
      if (redis) {
        add({ kind: 'storage', label: `Cluster coordination (ElastiCache Redis ${fact.name})`, location: awsLocation(c.location.code ?? undefined, c.location.basis), readers: 'the media nodes (AUTH token); the AWS account', encryption: redis.encryption, retention: redis.retention, personalData: true, seenIn: [stackSrc], stored: { retentionDays: redis.snapshotDays, encryptedAtRest: redis.atRest } });
        continue;
      }
      add({ kind: 'storage', label: `${c.service.toUpperCase()} ${fact.type.split(':').pop()} ${fact.name}`, location: awsLocation(c.location.code ?? undefined, c.location.basis), readers: 'the AWS account', encryption: 'see resource', retention: 'see resource', personalData: true, seenIn: [stackSrc] });
    }
  } else if (placement) {
    add({ kind: 'control-plane', label: `AWS API ${placement.providerRegion}`, location: awsLocation(placement.providerRegion, `provider region of the planned placement (${configSrc})`), readers: 'the AWS account; AWS', encryption: 'TLS to the AWS API', retention: 'while the resources exist', personalData: false, seenIn: [configSrc], ...(localZone ? { caveat: `control plane of the Local Zone, in ${localZone.parentCountry}` } : {}) });
    add({ kind: 'control-plane', label: 'IAM metadata', location: awsGlobal('IAM', `the host role and instance profile the deployment creates (${configSrc})`), readers: 'the AWS account; AWS', encryption: 'AWS-managed', retention: 'while the resources exist', personalData: false, seenIn: [configSrc] });
  }

  // DNS, certificate issuance, Pulumi state, software updates.
  if (deployment && !flows.some((f) => f.kind === 'dns')) {
    add({ kind: 'dns', label: `DNS for ${deployment.domain}`, location: { country: null, scope: 'unknown', place: "the university's DNS provider", basis: 'the stack creates no DNS zone: the A record is kept wherever the university runs DNS' }, readers: 'public', encryption: 'none (public records)', retention: 'while published', personalData: false, seenIn: [configSrc] });
  }
  if (deployment || (runtime && runtime.http.tls !== 'none')) {
    add({ kind: 'tls-issuance', label: "TLS certificates (ACME)", location: thirdPartyLocation('acme-v02.api.letsencrypt.org', deployment ? `deployment.acmeEmail: certificates come from Let's Encrypt over ACME (${configSrc})` : `${runtimeSrc}: TLS terminated on the host`), readers: 'the CA; everyone (Certificate Transparency logs)', encryption: 'TLS', retention: 'CT logs keep hostnames forever', personalData: false, seenIn: [deployment ? configSrc : runtimeSrc], caveat: 'hostname and the ACME contact address leave the country' });
  }
  if (inputs.stateUrl || inputs.stack || deployment) {
    add({ kind: 'pulumi-state', label: 'Pulumi state', ...(inputs.stateUrl?.startsWith('file://') ? { operator: universityOperator(country, 'a file backend on the operator\'s own disk') } : {}), location: stateLocation(inputs.stateUrl), readers: 'whoever can read the backend; secrets encrypted by the secrets provider', encryption: secretsDescription(inputs), retention: 'every stack update is kept in history', personalData: false, seenIn: [inputs.stateUrl ? `--state-url ${inputs.stateUrl}` : stackSrc || configSrc] });
  }
  const kms = inputs.stack?.export.secretsProvider?.url;
  if (kms?.startsWith('awskms://')) {
    const region = new URLSearchParams(kms.split('?')[1] ?? '').get('region') ?? undefined;
    add({ kind: 'pulumi-state', label: 'Pulumi secrets key (KMS)', location: awsLocation(region, `region parameter of the secrets provider ${kms}`), readers: 'the AWS account', encryption: 'KMS', retention: 'while the key exists', personalData: false, seenIn: [stackSrc] });
  }
  const updateSources = [...(deployment ? [deployment.release.repository] : []), ...(runtime?.updateSources ?? [])];
  for (const source of new Set(updateSources)) {
    const host = hostOf(source);
    if (!host) continue;
    add({ kind: 'software-updates', label: `Updates from ${host}`, operator: ours(host) ? universityOperator(country, `${host} is under the university's own domain`) : thirdPartyOperator(host), location: ours(host) ? { country: null, scope: 'unknown', place: `${host} (the university's own domain)`, basis: `update source ${source} is under the deployment's own domain; where it is hosted is not derivable` } : thirdPartyLocation(host, `update source ${source}`), readers: 'the source sees the host’s address and what it downloads', encryption: source.startsWith('https://') ? 'TLS' : 'none', retention: 'per the source', personalData: false, seenIn: [deployment?.release.repository === source ? configSrc : runtimeSrc] });
  }

  // Third parties the server hands to browsers or the client bundle references.
  const iceUrls = [
    ...(config?.ice.servers ?? []).flatMap((s) => s.urls.map((u) => [u, configSrc] as const)),
    ...(runtime?.ice.servers ?? []).flatMap((s) => s.urls.map((u) => [u, runtimeSrc] as const)),
  ];
  for (const [url, src] of iceUrls) {
    const host = hostOf(url);
    if (host && !ours(host)) add({ kind: 'third-party', label: `ICE server ${host}`, location: thirdPartyLocation(host, `ICE server handed to browsers: ${url}`), readers: 'the operator of that server sees every participant’s IP address', encryption: 'none (STUN) / relay', retention: 'unknown', personalData: true, seenIn: [src] });
  }
  for (const ref of inputs.bundle?.references ?? []) {
    if (ref.context === 'comment' || ours(ref.host)) continue;
    add({ kind: 'third-party', label: `Client contacts ${ref.host}`, location: thirdPartyLocation(ref.host, `${ref.url} in the built client`), readers: 'the operator of that host sees every participant’s IP address and browser', encryption: ref.url.startsWith('https') ? 'TLS' : 'none', retention: 'unknown', personalData: true, seenIn: [`client bundle ${inputs.bundle!.dir}`] });
  }

  const jurisdiction = deployment?.jurisdiction ?? 'location';
  return { country, countrySource, ownHosts, ownDomain: siteDomain, flows, hosts, resources, jurisdiction, jurisdictionNote: jurisdictionNote(country, jurisdiction, flows) };

  function addStorageFlows(kind: 'recordings' | 'logs' | 'audit-log', name: string): void {
    const before = flows.length;
    for (const s of runtime?.storage.filter((x) => x.kind === kind) ?? []) {
      // Recordings: how many are kept now and which key wraps their data keys (GET /admin/runtime recordings).
      const kept = kind === 'recordings' ? runtime?.recordings : undefined;
      const count = kept ? `, ${kept.count} kept` : '';
      const key = kept ? `, a data key per recording wrapped by ${kept.kekId}` : '';
      add({ kind, label: `${name} (${BACKEND_NAMES[s.backend] ?? s.backend} ${s.target}${count})`, location: storageLocation(s, sfu.location, runtimeSrc), readers: readersOf(kind), encryption: s.encryptedAtRest ? `encrypted at rest${key}` : 'NOT encrypted at rest', retention: days(s.retentionDays), personalData: true, seenIn: [runtimeSrc], stored: { retentionDays: s.retentionDays, encryptedAtRest: s.encryptedAtRest } });
    }
    if (facts) addStackStorage(facts, kind, name);
    if (flows.length > before) return;
    if (placement && kind !== 'audit-log') {
      const zoneStore = placement.dataStore === 'zone-volume';
      const where = zoneStore ? placement.availabilityZone : placement.providerRegion;
      const retentionDays = kind === 'recordings' ? deployment!.storage.recordingsRetentionDays : deployment!.storage.logRetentionDays;
      add({ kind, label: `${name} (${zoneStore ? 'encrypted EBS volume' : kind === 'logs' ? 'CloudWatch Logs' : 'S3'}, planned)`, location: awsLocation(where, `planned placement's data store (${configSrc})`), readers: readersOf(kind), encryption: 'encrypted at rest (planned)', retention: `${retentionDays} days (deployment.storage)`, personalData: true, seenIn: [configSrc], stored: { retentionDays, encryptedAtRest: true } });
      return;
    }
    const enabled = kind === 'recordings' ? (runtime?.features.recording ?? false) : true;
    add({ kind, label: name, location: sfu.location, readers: readersOf(kind), encryption: kind === 'audit-log' ? 'hash-chained and signed; at rest as the host disk' : 'as the host disk', retention: kind === 'logs' ? (runtime ? days(runtime.logs.retentionDays) : 'unknown') : kind === 'audit-log' ? 'kept (append-only)' : 'unknown', personalData: true, seenIn: [sfu.seenIn], active: enabled, stored: { retentionDays: kind === 'logs' && runtime ? runtime.logs.retentionDays : kind === 'audit-log' ? null : undefined, encryptedAtRest: undefined } });
  }

  function addStackStorage(f: StackFacts, kind: 'recordings' | 'logs' | 'audit-log', name: string): void {
    for (const b of f.buckets.filter((x) => x.purpose === kind)) {
      shownUrns.add(b.resource.urn);
      add({ kind, label: `${name} (S3 ${bucketName(b.resource)})`, location: awsLocation(b.resource.region, `bucket ${b.resource.name}: ${b.resource.regionSource}`), readers: `${readersOf(kind)}; the AWS account`, encryption: b.encryption ? `SSE ${b.encryption}` : 'SSE-S3 (S3 default, AWS-held keys)', retention: b.retentionDays === null ? 'forever (no lifecycle expiration)' : `${b.retentionDays} days (lifecycle rule)`, personalData: true, seenIn: [stackSrc], stored: { retentionDays: b.retentionDays, encryptedAtRest: true } });
    }
    if (kind === 'logs') {
      for (const g of f.logGroups) {
        shownUrns.add(g.resource.urn);
        add({ kind, label: `${name} (CloudWatch ${typeof g.resource.inputs.name === 'string' ? g.resource.inputs.name : g.resource.name})`, location: awsLocation(g.resource.region, `log group ${g.resource.name}: ${g.resource.regionSource}`), readers: `${readersOf(kind)}; the AWS account`, encryption: g.kmsKey ? 'KMS key' : 'CloudWatch default encryption', retention: g.retentionDays === null ? 'forever (no retentionInDays)' : `${g.retentionDays} days`, personalData: true, seenIn: [stackSrc], stored: { retentionDays: g.retentionDays, encryptedAtRest: true } });
      }
    }
    for (const v of f.volumes.filter((x) => x.purpose === kind || (x.purpose === undefined && kind !== 'audit-log' && !f.buckets.some((b) => b.purpose === kind) && !(kind === 'logs' && f.logGroups.length > 0)))) {
      shownUrns.add(v.resource.urn);
      const retentionDays = kind === 'recordings' ? deployment?.storage.recordingsRetentionDays : kind === 'logs' ? deployment?.storage.logRetentionDays : undefined;
      add({ kind, label: `${name} (EBS ${v.resource.name})`, location: awsLocation(v.zone ?? v.resource.region, `volume ${v.resource.name} availabilityZone in the ${stackSrc}`), readers: `${readersOf(kind)}; the AWS account`, encryption: v.encrypted ? 'EBS encryption' : 'NOT encrypted at rest', retention: retentionDays ? `${retentionDays} days (deployment.storage, enforced on the host)` : 'unknown', personalData: true, seenIn: [stackSrc], stored: { retentionDays, encryptedAtRest: v.encrypted } });
    }
  }
}

const BACKEND_NAMES: Record<string, string> = { s3: 'S3', cloudwatch: 'CloudWatch', 'local-disk': 'disk', memory: 'memory' };

function bucketName(r: { name: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }): string {
  const name = r.outputs.bucket ?? r.inputs.bucket;
  return typeof name === 'string' ? name : r.name;
}

function readersOf(kind: string): string {
  if (kind === 'recordings') return 'Lectern admins; the room’s teachers';
  if (kind === 'audit-log') return 'Lectern admins; auditors';
  return 'Lectern admins';
}

function days(value: number | null): string {
  return value === null ? 'forever (no retention)' : `${value} days`;
}

function storageLocation(s: { backend: string; region?: string | undefined; target: string }, host: Location, source: string): Location {
  if (s.backend === 's3' || s.backend === 'cloudwatch') return awsLocation(s.region, `${s.backend} ${s.target} region reported by the ${source}`);
  return host;
}

// Second-level labels under which registrants get third-level names (ac.uk, edu.au, co.jp, ...).
const SHARED_SECOND_LEVEL = new Set(['ac', 'co', 'com', 'edu', 'gov', 'net', 'org', 'or', 'ne', 'go', 'gv', 'mil', 'sch', 'ltd', 'plc', 'nhs', 'gob', 'gouv']);

/**
 * The university's own domain from the deployment's hostname: class.uni.se -> uni.se, so turn.uni.se
 * and git.uni.se count as its own; class.ox.ac.uk -> ox.ac.uk; lectern.ac.uk stays lectern.ac.uk.
 */
export function organisationDomain(host: string): string {
  const labels = host.split('.');
  if (labels.length < 3) return host;
  const parent = labels.slice(1);
  if (parent.length === 2 && SHARED_SECOND_LEVEL.has(parent[0]!)) return host;
  return parent.join('.');
}

function domainOf(url: string | undefined): string | null {
  const host = url ? hostOf(url) : null;
  return host && !/^[0-9.]+$/.test(host) && host.includes('.') && !isLoopback(host) ? host : null;
}

function stateLocation(url: string | undefined): Location {
  if (!url) return { country: null, scope: 'unknown', place: 'Pulumi backend (not given)', basis: 'a stack export does not name its backend: pass --state-url (`pulumi whoami -v`)' };
  if (url.startsWith('file://')) return { country: null, scope: 'host', place: `operator's disk (${url})`, basis: 'file backend: wherever the operator runs pulumi' };
  const s3 = /^s3:\/\/([^?]+)(?:\?(.*))?$/.exec(url);
  if (s3) {
    const region = new URLSearchParams(s3[2] ?? '').get('region') ?? undefined;
    return awsLocation(region, `region parameter of the state URL ${url}`);
  }
  const host = hostOf(url);
  return thirdPartyLocation(host ?? url, `state URL ${url}`);
}

function secretsDescription(inputs: AuditInputs): string {
  const sp = inputs.stack?.export.secretsProvider;
  if (!sp) return 'secrets provider unknown';
  if (sp.type === 'cloud' && sp.url) return `secrets encrypted with ${sp.url}`;
  return `secrets provider: ${sp.type}`;
}

/**
 * A cluster's coordination store (node registry, room directory): what its own settings say about
 * encryption and how long its snapshots are kept. Undefined for anything that is not an ElastiCache group.
 */
function coordinationStoreOf(r: { type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> } | undefined): { encryption: string; retention: string; snapshotDays: number | null; atRest: boolean } | undefined {
  if (!r || r.type !== 'aws:elasticache/replicationGroup:ReplicationGroup') return undefined;
  const v = { ...r.outputs, ...r.inputs };
  const transit = v.transitEncryptionEnabled === true;
  const atRest = v.atRestEncryptionEnabled === true;
  const snapshots = typeof v.snapshotRetentionLimit === 'number' ? v.snapshotRetentionLimit : 0;
  return {
    encryption: `${transit ? 'TLS in transit' : 'NOT encrypted in transit'}; ${atRest ? 'encrypted at rest' : 'NOT encrypted at rest'}`,
    retention: `live registry entries expire with their TTL; ${snapshots > 0 ? `daily snapshots kept ${snapshots} days in the group's region` : 'no snapshots'}`,
    snapshotDays: snapshots > 0 ? snapshots : null,
    atRest,
  };
}

/** A host the program tagged as running the cluster's Redis (`lectern:coordination=redis`). */
function coordinationOnHost(h: { resource: { inputs: Record<string, unknown>; outputs: Record<string, unknown> } }): boolean {
  const tags = (h.resource.inputs.tags ?? h.resource.outputs.tags) as Record<string, unknown> | undefined;
  return tags?.['lectern:coordination'] === 'redis';
}
