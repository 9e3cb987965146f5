// build(): the whole HTTP/WebSocket application, never listening. main.ts listens; tests call
// build() and either inject() requests or listen on 127.0.0.1 port 0 themselves.
import { resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import type { LecternConfig } from '../config/index.js';
import type { Sfu } from '../sfu/index.js';
import { AuditLog } from '../audit/log/index.js';
import { Authenticator, authRoutes } from './auth/index.js';
import { RoomRegistry } from './rooms/RoomRegistry.js';
import { handlers } from './signalling/handlers/index.js';
import { JoinIdentities } from './signalling/identities.js';
import { AuditRecorder } from './audit/AuditRecorder.js';
import { IceServers } from './ice/IceServers.js';
import { LtiTool, ltiRoutes } from './lti/index.js';
import { securityHeaders } from './plugins/securityHeaders.js';
import { pages } from './routes/pages.js';
import { health } from './routes/health.js';
import { rtpCapabilities } from './routes/rtpCapabilities.js';
import { signalling } from './routes/signalling.js';
import { adminRuntime } from './routes/adminRuntime.js';
import { adminCluster } from './routes/adminCluster.js';
import { movedRoom } from './routes/movedRoom.js';
import { recordingRoutes } from './routes/recordings.js';
import { RecordingService } from './recording/RecordingService.js';
import { defaultClientDir } from './paths.js';
import { httpErrorHandler, notFoundHandler } from './httpErrors.js';
import { loggerOptions } from './logging.js';
import { ClusterNode } from './cluster/ClusterNode.js';
import { createCoordinator } from './cluster/createCoordinator.js';
import { EdgeNode } from './cluster/EdgeNode.js';
import { NodeMetrics } from './metrics/NodeMetrics.js';

/** What build() needs: validated config and a running media engine (owned by the caller). */
export interface BuildOptions {
  config: LecternConfig;
  sfu: Sfu;
  /** Built client files; defaults to client/dist in the project. */
  clientDir?: string;
}

/** The server plus the parts main.ts reports on at start-up. */
export interface Lectern {
  app: FastifyInstance;
  authenticator: Authenticator;
  auditLog: AuditLog;
  /** This process as a cluster node; start() it once listening (a no-op without a cluster section). */
  cluster: ClusterNode;
  /** Prometheus metrics; served by MetricsServer where `metrics` is configured. */
  metrics: NodeMetrics;
  /** Recordings: start, list, delete, retention sweeps. */
  recordings: RecordingService;
  /** Rooms bigger than a node (cluster.internal); start() it before the cluster registers. */
  edges: EdgeNode | undefined;
}

/** Assemble Lectern's server. Closing the app closes every room and the audit log, not the Sfu. */
export async function build(options: BuildOptions): Promise<Lectern> {
  const { config, sfu } = options;
  const app = Fastify({
    logger: loggerOptions(config.log.level),
    trustProxy: config.http.trustProxy,
    // Signalling is on the WebSocket; HTTP bodies are small admin/JSON requests.
    bodyLimit: 64 * 1024,
    // Fastify's defaults strip unknown keys and coerce types, so a typo `subjet` issued a shared
    // link and `ttl: 120` a 4-hour one. Strict: an unknown key or a wrong type is a 400 naming it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true } },
  });
  app.setErrorHandler(httpErrorHandler);
  app.setNotFoundHandler(notFoundHandler);

  // First: a TURN secret that cannot be read fails start-up before anything is opened.
  const ice = IceServers.fromConfig(config.ice);
  const auditLog = await AuditLog.open(resolve(config.audit.dir));
  const authenticator = await Authenticator.create(config.auth, app.log);
  const recorder = new AuditRecorder(auditLog, app.log);
  const recordings = await RecordingService.open({ config: config.recording, auditLog, log: app.log, deploymentCountry: config.deployment?.country });
  const rooms = new RoomRegistry(sfu, config, app.log, recorder, recordings);
  const coordinator = createCoordinator(config);
  // Rooms bigger than a node (cluster.internal): this node's internal listener, pipes and edge placement.
  const edges = EdgeNode.create(config, sfu, coordinator, app.log);
  const cluster = new ClusterNode(
    config,
    coordinator,
    {
      hasRoom: (name) => rooms.rooms.get(name)?.closed === false,
      roomNames: () => rooms.rooms.keys(),
      // Subscribers it carries as an edge weigh on it like its own participants (the node load placement compares).
      participants: () => rooms.peerCount + (edges?.subscribers ?? 0),
      workers: () => sfu.workerCount,
      ...(edges ? { edgeRoom: () => edges.room } : {}),
      media: () => sfu.load(),
      recordingIds: () => recordings.store.list(),
    },
    app.log,
  );
  // Which node holds each recording, for the others to send its requests there (a no-op alone).
  recordings.holders = cluster;
  if (edges) {
    rooms.edges = edges;
    edges.onEdgeLost = (nodeId) => rooms.edgeLost(nodeId);
  }
  const metrics = new NodeMetrics({ sfu, rooms, cluster });
  const lti = await LtiTool.create(config, authenticator, recorder, app.log);
  app.addHook('onClose', async () => {
    rooms.close();
    await edges?.close();
    await recordings.close();
    await cluster.close();
    await auditLog.close();
  });

  await securityHeaders(app, { https: config.http.publicUrl?.startsWith('https://') ?? false, frameAncestors: lti?.platforms.frameOrigins ?? [] });
  // Frames above the configured limit are answered with an error by the session; this hard cap
  // protects memory from frames so large they should never be read at all.
  await app.register(websocket, { options: { maxPayload: Math.max(4 * config.signalling.maxFrameBytes, 256 * 1024) } });
  await app.register(authRoutes, { authenticator, config });
  if (lti) await app.register(ltiRoutes, { tool: lti, config });
  await app.register(health, { sfu, rooms, cluster });
  await app.register(rtpCapabilities, { sfu });
  await app.register(signalling, { rooms, config, ice, handlers, identities: new JoinIdentities(authenticator), cluster, metrics });
  await app.register(pages, { clientDir: options.clientDir ?? defaultClientDir(), sourceMaps: config.http.sourceMaps, cluster, recordings });
  await app.register(adminRuntime, { config, sfu, authenticator, auditLog, recordings });
  await app.register(adminCluster, { cluster, authenticator, rooms, edges });
  await app.register(movedRoom, { cluster });
  await app.register(recordingRoutes, { config, authenticator, recordings, auditLog, cluster });
  recordings.startSweeper();
  return { app, authenticator, auditLog, cluster, metrics, recordings, edges };
}
