// What a browser is told about ICE: the deployment's static entries plus, when a TURN relay is
// configured, a credential of its own that expires. Built once at start-up (a missing or short
// secret fails then, not at the first join) and asked on every join and renewal.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/index.js';
import type { IceConfig, IceServer } from '../../config/schema.js';
import { TurnCredentials } from './TurnCredentials.js';

/** The ICE part of a join (or renewal) reply. */
export interface IceOffer {
  iceServers: IceServer[];
  iceTransportPolicy: 'all' | 'relay';
  /** Seconds until the minted TURN credential expires; absent without a TURN relay. */
  iceServersTtlSeconds?: number;
}

// coturn accepts any secret; HMAC-SHA1 with fewer than 32 characters of secret is guessable offline
// from one captured credential. The schema holds inline secrets to this; a file is checked here.
const MIN_SECRET_LENGTH = 32;

/** The TURN relay's URLs and the signer of its credentials. */
interface Relay {
  urls: string[];
  credentials: TurnCredentials;
}

/** Hands out ICE servers, minting a TURN credential per participant. */
export class IceServers {
  readonly #static: IceServer[];
  readonly #relayOnly: boolean;
  readonly #turn: Relay | undefined;

  /** From the validated `ice` config; reads `ice.turn.secretFile`. Throws ConfigError naming the key. */
  static fromConfig(ice: IceConfig): IceServers {
    const turn = ice.turn;
    if (!turn) return new IceServers(ice, undefined);
    return new IceServers(ice, { urls: [...turn.urls], credentials: new TurnCredentials(readSecret(turn), turn.credentialTtlSeconds) });
  }

  private constructor(ice: IceConfig, turn: Relay | undefined) {
    this.#static = ice.servers.map((s) => ({ ...s, urls: [...s.urls] }));
    this.#relayOnly = ice.relayOnly;
    this.#turn = turn;
  }

  /** Lifetime of each minted TURN credential in seconds; undefined without a TURN relay. */
  get credentialTtlSeconds(): number | undefined {
    return this.#turn?.credentials.ttlSeconds;
  }

  /** What `peerId` is told now: static servers and a fresh TURN credential. Call on join, resume and renewal. */
  iceServersFor(peerId: string, now: number = Date.now()): IceOffer {
    const iceServers = this.#static.map((s) => ({ ...s, urls: [...s.urls] }));
    const offer: IceOffer = { iceServers, iceTransportPolicy: this.#relayOnly ? 'relay' : 'all' };
    if (this.#turn) {
      const { username, credential } = this.#turn.credentials.mint(peerId, now);
      iceServers.push({ urls: [...this.#turn.urls], username, credential });
      offer.iceServersTtlSeconds = this.#turn.credentials.ttlSeconds;
    }
    return offer;
  }
}

function readSecret(turn: NonNullable<IceConfig['turn']>): string {
  const problems: string[] = [];
  if (turn.secret !== undefined && turn.secretFile !== undefined) problems.push('ice.turn: give either secret or secretFile, not both');
  if (turn.secret === undefined && turn.secretFile === undefined) problems.push('ice.turn: needs secret or secretFile (coturn\'s static-auth-secret)');
  if (problems.length > 0) throw new ConfigError('ice.turn', problems);
  if (turn.secret !== undefined) return turn.secret;
  let text: string;
  try {
    text = readFileSync(turn.secretFile!, 'utf8');
  } catch (error) {
    throw new ConfigError('ice.turn.secretFile', [`ice.turn.secretFile: cannot read ${turn.secretFile}: ${(error as Error).message}`]);
  }
  const secret = text.split('\n')[0]!.trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError('ice.turn.secretFile', [`ice.turn.secretFile: the secret in ${turn.secretFile} has ${secret.length} characters; use at least ${MIN_SECRET_LENGTH} random ones`]);
  }
  return secret;
}
