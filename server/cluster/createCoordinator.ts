// The cluster section -> a Coordinator: Redis when `cluster.redis` is set, else in memory. Checks
// what the schema cannot (url or host, password or passwordFile, TTL above the heartbeat) and
// reads the password file, failing start-up with a ConfigError naming the key.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, type LecternConfig } from '../../config/index.js';
import type { Coordinator } from './Coordinator.js';
import { LocalCoordinator } from './LocalCoordinator.js';
import { RedisCoordinator } from './RedisCoordinator.js';
import { placementRefusal } from './residency.js';

/** The coordinator this config asks for. */
export function createCoordinator(config: LecternConfig): Coordinator {
  const cluster = config.cluster;
  const country = config.deployment?.country;
  if (!cluster) return new LocalCoordinator({ country, checkPlacement: false });
  const problems: string[] = [];
  if (cluster.ttlSeconds <= cluster.heartbeatSeconds) problems.push('cluster.ttlSeconds: must be longer than cluster.heartbeatSeconds, or a live node expires between its heartbeats');
  // Default deny, before anything connects: a node that cannot be proven in-country does not start.
  const refusal = placementRefusal(cluster.placement, country);
  if (refusal) problems.push(`cluster.placement: ${refusal}`);
  const redis = cluster.redis;
  if (!redis) {
    if (problems.length > 0) throw new ConfigError('cluster', problems);
    return new LocalCoordinator({ country, checkPlacement: true });
  }
  if ((redis.url === undefined) === (redis.host === undefined)) problems.push('cluster.redis: give either url or host (+ port)');
  if (redis.url !== undefined && redis.port !== undefined) problems.push('cluster.redis.port: goes with host, not url');
  if (redis.password !== undefined && redis.passwordFile !== undefined) problems.push('cluster.redis: give either password or passwordFile, not both');
  if (redis.url !== undefined && new URL(redis.url).password) problems.push('cluster.redis.url: carries a password; use cluster.redis.passwordFile');
  let password = redis.password;
  if (redis.passwordFile !== undefined) {
    try {
      password = readFileSync(redis.passwordFile, 'utf8').split('\n')[0]?.trim() || undefined;
      if (!password) problems.push(`cluster.redis.passwordFile: ${redis.passwordFile} is empty`);
    } catch (error) {
      problems.push(`cluster.redis.passwordFile: cannot read ${redis.passwordFile}: ${(error as Error).message}`);
    }
  }
  const tls = redis.tls || redis.url?.startsWith('rediss://') === true;
  let ca: string | undefined;
  if (redis.caFile !== undefined) {
    // A private CA is trusted instead of the system's, never as well; and only over TLS.
    if (!tls) problems.push('cluster.redis.caFile: needs TLS (cluster.redis.tls or a rediss:// URL)');
    try {
      ca = readFileSync(redis.caFile, 'utf8');
      if (!new X509Certificate(ca).ca) problems.push(`cluster.redis.caFile: ${redis.caFile} is not a CA certificate`);
    } catch (error) {
      problems.push(`cluster.redis.caFile: cannot read a PEM certificate from ${redis.caFile}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError('cluster', problems);
  return new RedisCoordinator({
    url: redis.url,
    redis: {
      ...(redis.host !== undefined ? { host: redis.host, port: redis.port ?? 6379 } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(tls ? { tls: ca !== undefined ? { ca } : {} } : {}),
    },
    prefix: redis.keyPrefix,
    country,
  });
}
