// Stack config -> one validated LecternConfig. Every `lectern:<section>` key is a section of the one
// config schema (config/schema.ts), so a stack key means what the server key means and an unknown or
// misspelt key fails here, at preview, with the same message the server would give.
import { ConfigError, LecternConfigSchema, parseConfig, type LecternConfig } from '../config/index.js';
import type { DeploymentConfig } from '../config/deployment.js';

/** The Pulumi project name, hence the config namespace. */
export const PROJECT = 'lectern';

/** Stack keys that are not config-schema sections: secrets never written into the server's config file. */
export const SECRET_KEYS: readonly string[] = ['turnCredential', 'redisAuthToken', 'clusterSecret'];

/** Server keys the deployment sets itself; a stack that sets them is refused rather than overridden. */
export const DEPLOYMENT_OWNED_KEYS: readonly string[] = [
  'http.host',
  'http.publicUrl',
  'http.trustProxy',
  'media.listenIp',
  'media.announcedAddress',
  'ice.servers',
  'ice.turn',
];

/** A validated stack: the server config (without deployment-set keys) plus its deployment section. */
export interface StackConfig {
  readonly config: LecternConfig;
  readonly deployment: DeploymentConfig;
}

/**
 * Build and validate the LecternConfig a stack describes, from the flat Pulumi config map
 * (`pulumi.runtime.allConfig()`: "lectern:media" -> JSON text). Throws ConfigError listing every problem.
 */
export function readStackConfig(all: Readonly<Record<string, string>>): StackConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, text] of Object.entries(all)) {
    if (!key.startsWith(`${PROJECT}:`)) continue;
    const name = key.slice(PROJECT.length + 1);
    if (SECRET_KEYS.includes(name)) continue;
    raw[name] = parseValue(text);
  }
  for (const dotted of DEPLOYMENT_OWNED_KEYS) {
    const [section, field] = dotted.split('.') as [string, string];
    const value = raw[section];
    if (isObject(value) && field in value) problems.push(`${PROJECT}:${section}.${field}: set by the deployment itself; remove it from the stack`);
  }
  // Each node's cluster section (its id, placement, private address, Redis) is written by the
  // deployment from deployment.sfu.count; a stack-wide one would give every node the same identity.
  if (raw.cluster !== undefined) problems.push(`${PROJECT}:cluster: set by the deployment itself for each node (deployment.sfu.count); remove it from the stack`);
  if (raw.deployment === undefined) {
    problems.push(`${PROJECT}:deployment: required in a stack (country, domain, acmeEmail, release, ...)`);
  }
  if (problems.length > 0) throw new ConfigError('stack config', problems);
  const config = parseStackObject(raw);
  const deployment = config.deployment!;
  const more = [...crossChecks(config, deployment)];
  if (more.length > 0) throw new ConfigError('stack config', more);
  return { config, deployment };
}

/** Names of the sections a stack may set (for docs and errors). */
export function stackSections(): string[] {
  return [...Object.keys(LecternConfigSchema.properties), ...SECRET_KEYS];
}

function parseStackObject(raw: Record<string, unknown>): LecternConfig {
  try {
    return parseConfig(raw, 'stack config');
  } catch (err) {
    // Name problems by their stack key (lectern:media.rtcPort), which is what the user edits.
    if (err instanceof ConfigError) throw new ConfigError('stack config', err.problems.map((p) => `${PROJECT}:${p}`));
    throw err;
  }
}

function* crossChecks(config: LecternConfig, deployment: DeploymentConfig): Generator<string> {
  if (config.media.workers === 0) {
    // The firewall opens one UDP/TCP port per worker; "one per core" cannot be known before the host boots.
    yield `${PROJECT}:media.workers: must be set explicitly (>= 1) in a stack; the firewall opens rtcPort .. rtcPort+workers-1`;
  }
  const turn = deployment.turn;
  if (turn.relayPortMin > turn.relayPortMax) yield `${PROJECT}:deployment.turn.relayPortMin: must not exceed relayPortMax`;
  const mediaFirst = config.media.rtcPort;
  const mediaLast = mediaFirst + Math.max(config.media.workers, 1) - 1;
  if (turn.mode === 'colocated' && turn.relayPortMin <= mediaLast && turn.relayPortMax >= mediaFirst) {
    yield `${PROJECT}:deployment.turn: relay ports ${turn.relayPortMin}-${turn.relayPortMax} overlap the media ports ${mediaFirst}-${mediaLast}`;
  }
  if (turn.mode === 'colocated') {
    const taken = new Map([[80, 'HTTP (ACME)'], [443, 'HTTPS'], [config.http.port, 'the Lectern server']]);
    for (const [port, name] of [[turn.port, 'port'], [turn.tlsPort, 'tlsPort']] as const) {
      const user = taken.get(port);
      if (user) yield `${PROJECT}:deployment.turn.${name}: ${port} is used by ${user} on the colocated host; use a separate TURN host or another port`;
    }
  }
  if (turn.port === turn.tlsPort) yield `${PROJECT}:deployment.turn.tlsPort: must differ from turn.port`;
}

function parseValue(text: string): unknown {
  // Structured stack values arrive as JSON text; plain strings stay strings so the schema names the key.
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
