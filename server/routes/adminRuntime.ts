// GET /admin/runtime: what this running Lectern actually uses, for `lectern audit --url`. Every value
// is read from the running parts (bound sockets, the candidates the media workers announce, the CSP header
// this very response carries, the audit log's head) rather than echoed from config where the two can
// differ. Read-only, admin-only, and without secrets: ICE credentials are reported as present, never sent.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LecternConfig } from '../../config/index.js';
import { mediasoupVersion, type Sfu } from '../../sfu/index.js';
import type { AuditLog } from '../../audit/log/index.js';
import { AdminRuntimeSchema, type AdminRuntime, type RuntimeListener, type RuntimeStorage } from '../../audit/sources/adminRuntime.js';
import { AuthError, type Authenticator } from '../auth/index.js';
import { projectRoot } from '../paths.js';
import type { RecordingService } from '../recording/RecordingService.js';

/** What the endpoint reads from. */
export interface AdminRuntimeOptions {
  config: LecternConfig;
  sfu: Sfu;
  authenticator: Authenticator;
  auditLog: AuditLog;
  /** The recordings kept, with their key and retention, for the audit's map and checks. */
  recordings?: RecordingService;
}

/** Path of the endpoint (the audit's liveServer.ts reads the same one). */
export const ADMIN_RUNTIME_ROUTE = '/admin/runtime';

const IMDS = 'http://169.254.169.254/latest';
const IMDS_TIMEOUT_MS = 1500;

/** Register GET /admin/runtime. */
export async function adminRuntime(app: FastifyInstance, options: AdminRuntimeOptions): Promise<void> {
  const { config, sfu, authenticator, auditLog, recordings } = options;
  const lecternVersion = readLecternVersion();
  let awsHost: AdminRuntime['host'] | undefined; // kept once read; retried while unreachable

  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!authenticator.isAdmin(request)) {
      void reply.header('www-authenticate', 'Bearer');
      throw new AuthError('unauthorized', 'an admin token is required (Authorization: Bearer <token>)');
    }
  };

  app.get(
    ADMIN_RUNTIME_ROUTE,
    { schema: { response: { 200: AdminRuntimeSchema } }, onRequest: requireAdmin },
    async (request, reply): Promise<AdminRuntime> => {
      void reply.header('cache-control', 'no-store');
      const media = await sfu.listeners();
      const http = httpListen(request.server, config);
      const listeners: RuntimeListener[] = [
        { protocol: 'tcp', address: http.host, port: http.port, purpose: 'http' },
        ...media.flatMap((m) => [
          ...m.udp.map((s) => ({ protocol: 'udp' as const, address: s.ip, port: s.port, purpose: 'media' })),
          ...m.tcp.map((s) => ({ protocol: 'tcp' as const, address: s.ip, port: s.port, purpose: 'media' })),
        ]),
      ];
      if (config.deployment) awsHost ??= await readAwsHost(request.log);
      const host = awsHost ?? { provider: config.deployment ? ('on-premises' as const) : ('local' as const) };
      const csp = reply.raw.getHeader('content-security-policy');
      const head = auditLog.head();
      return {
        versions: { lectern: lecternVersion, node: process.versions.node, mediasoup: mediasoupVersion },
        host,
        ...(config.deployment ? { country: config.deployment.country } : {}),
        http: {
          listen: http,
          ...(config.http.publicUrl ? { publicUrl: config.http.publicUrl } : {}),
          tls: request.server.initialConfig.https ? 'server' : config.http.publicUrl?.startsWith('https://') ? 'proxy' : 'none',
          // helmet sets the same global policy on every route (none overrides it), pages included.
          contentSecurityPolicy: typeof csp === 'string' ? csp : null,
        },
        media: {
          listenIp: media[0]?.udp[0]?.ip ?? config.media.listenIp,
          announcedAddresses: [...new Set(media.flatMap((m) => m.announced))],
          workers: media.length,
        },
        listeners,
        // Exactly what the join reply hands browsers (server/signalling/handlers/join.ts), minus secrets.
        ice: {
          servers: config.ice.servers.map((s) => ({
            urls: [...s.urls],
            ...(s.username !== undefined ? { username: s.username } : {}),
            hasCredential: s.credential !== undefined && s.credential !== '',
          })),
          relayOnly: config.ice.relayOnly,
          ...(config.ice.turn ? { turn: { urls: [...config.ice.turn.urls], credentialTtlSeconds: config.ice.turn.credentialTtlSeconds } } : {}),
        },
        storage: storage(config, recordings),
        logs: { ipAddresses: logsIpAddresses(request.server), retentionDays: config.deployment?.storage.logRetentionDays ?? null },
        features: {
          recording: recordings !== undefined,
          chat: true,
          metrics: false,
          captions: false,
          oidc: config.auth.oidc !== undefined,
          guests: config.auth.guests.enabled,
          lobbyByDefault: config.rooms.lobbyByDefault,
        },
        updateSources: config.deployment ? [config.deployment.release.repository] : [],
        auditLogHead: { seq: head.seq, hash: head.hash },
        ...(recordings ? { recordings: await recordingsReport(recordings, config) } : {}),
      };
    },
  );
}

function readLecternVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}

/** The socket the HTTP server is bound to (config says 0 in tests; the OS picked the port). */
function httpListen(app: FastifyInstance, config: LecternConfig): { host: string; port: number } {
  const address = app.server.address();
  if (address && typeof address === 'object') return { host: (address as AddressInfo).address, port: (address as AddressInfo).port };
  return { host: config.http.host, port: config.http.port };
}

/** Where this host runs, from the EC2 instance metadata service (IMDSv2); undefined when unreachable. */
async function readAwsHost(log: FastifyBaseLogger): Promise<AdminRuntime['host'] | undefined> {
  try {
    const token = await imds(`${IMDS}/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
    const headers = { 'x-aws-ec2-metadata-token': token };
    const [region, availabilityZone] = await Promise.all([
      imds(`${IMDS}/meta-data/placement/region`, { headers }),
      imds(`${IMDS}/meta-data/placement/availability-zone`, { headers }),
    ]);
    return { provider: 'aws', region, availabilityZone };
  } catch (error) {
    log.warn({ err: error }, 'instance metadata unreachable: reporting the host as on-premises');
    return undefined;
  }
}

async function imds(url: string, init: RequestInit): Promise<string> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(IMDS_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.text()).trim();
}

/** The recordings kept now: the audit checks their retention and, against the audit log, their consent. */
async function recordingsReport(recordings: RecordingService, config: LecternConfig): Promise<NonNullable<AdminRuntime['recordings']>> {
  const items = await recordings.list();
  return {
    checkedAt: new Date().toISOString(),
    consentPolicy: config.recording.consent,
    defaultRetentionDays: config.recording.retentionDays,
    kekId: recordings.store.kekId,
    count: items.length,
    items: items.map((r) => ({
      id: r.id,
      room: r.room,
      startedAt: new Date(r.startedAt).toISOString(),
      expiresAt: new Date(r.expiresAt).toISOString(),
      retentionDays: r.retentionDays,
      active: r.active,
      kekId: r.kekId,
      recordedPeerIds: r.recordedPeerIds,
    })),
  };
}

/** What Lectern itself keeps. */
function storage(config: LecternConfig, recordings: RecordingService | undefined): RuntimeStorage[] {
  return [
    ...(recordings
      ? [{ kind: 'recordings' as const, backend: 'local-disk' as const, target: resolve(config.recording.dir), encryptedAtRest: true, retentionDays: config.recording.retentionDays }]
      : []),
    {
      kind: 'audit-log',
      backend: 'local-disk',
      target: resolve(config.audit.dir),
      // Lectern does not encrypt files itself; deployed hosts have encrypted volumes (infra/components/Host.ts).
      encryptedAtRest: config.deployment !== undefined,
      retentionDays: null,
    },
    { kind: 'chat', backend: 'memory', target: 'rooms', encryptedAtRest: false, retentionDays: 0 },
  ];
}

/**
 * Fastify's request log line carries the client's address, truncated by server/logging.ts; it is
 * written at info and below unless request logging is off. Nothing else in the server logs addresses.
 */
function logsIpAddresses(app: FastifyInstance): AdminRuntime['logs']['ipAddresses'] {
  const verbose = ['info', 'debug', 'trace'].includes(app.log.level);
  return verbose && !app.initialConfig.disableRequestLogging ? 'truncated' : 'none';
}
