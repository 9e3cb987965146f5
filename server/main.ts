// Start Lectern: load config (defaults -> $LECTERN_CONFIG file -> LECTERN_* environment), start the
// media workers, build the app, listen. With no configuration at all this is a working local
// Lectern on http://127.0.0.1:3000 that talks to nothing outside the machine.
import { loadConfig, ConfigError, type LecternConfig } from '../config/index.js';
import { Sfu } from '../sfu/index.js';
import { build } from './app.js';
import { sfuOptions } from './sfuOptions.js';
import { drainNode } from './cluster/drain.js';
import { MetricsServer } from './metrics/MetricsServer.js';

async function main(): Promise<void> {
  let config: LecternConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG: systemd will not restart-loop on a config error with RestartPreventExitStatus
    }
    throw error;
  }

  const sfu = await Sfu.create(sfuOptions(config));
  const { app, authenticator, auditLog, cluster, metrics, edges } = await build({ config, sfu });
  let metricsServer: MetricsServer | undefined;
  sfu.on('workerDied', ({ index, pid, error }) => app.log.error({ worker: index, pid, err: error }, 'media worker died; its rooms were closed'));
  sfu.on('workerRespawned', ({ index, pid }) => app.log.warn({ worker: index, pid }, 'media worker replaced'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    // A cluster node hands its classes over first (SIGTERM); SIGINT at a terminal drains too.
    if (config.cluster) await drainNode(app, cluster, config.cluster.drainSeconds).catch((error: unknown) => app.log.error({ err: error }, 'drain failed'));
    // As an edge: the homes move their subscribers off this node before its pipes close.
    if (config.cluster) await edges?.drain(config.cluster.drainSeconds).catch((error: unknown) => app.log.error({ err: error }, 'edge drain failed'));
    await metricsServer?.close();
    await app.close();
    sfu.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const address = await app.listen({ host: config.http.host, port: config.http.port });
  const origin = config.http.publicUrl ?? address;
  if (config.metrics) {
    metricsServer = await MetricsServer.start(metrics.registry, config.metrics.host, config.metrics.port);
    app.log.info({ metrics: metricsServer.url }, 'metrics listener up');
  }
  // The internal listener first: the registry entry names its port.
  await edges?.start();
  // Registered only once it can be reached; a foreign placement stops start-up here (NodeRefused).
  await cluster.start(address);
  app.log.info(
    { mediaPorts: sfu.mediaPorts, auditLogKey: auditLog.publicKeyPem.split('\n')[1] },
    `Lectern is up: open ${origin}/r/my-class in two tabs`,
  );
  // With no keys configured, the person who started Lectern still needs a way to be the instructor.
  // Only then: with a configured secret this link would be a long-lived credential in the logs.
  if (authenticator.ephemeralTokens) {
    // No name in the link: the person who opens it types their own (a name in a link beats a typed one).
    const token = await authenticator.issueRoomToken({ room: '*', role: 'instructor', ttlSeconds: 12 * 3600 });
    app.log.info(`Instructor link (any room, 12 h): ${origin}/r/my-class#token=${token}`);
  }
}

main().catch((error: unknown) => {
  console.error('Lectern failed to start:', error);
  process.exit(1);
});
