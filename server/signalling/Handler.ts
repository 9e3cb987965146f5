// The shape of a request handler. The handler table in handlers/index.ts is typed so that every
// protocol method has exactly one handler, checked by the compiler.
import type { FastifyBaseLogger } from 'fastify';
import type { LecternConfig } from '../../config/index.js';
import type { MethodName, RequestData, ReplyData } from '../../protocol/index.js';
import type { RoomRegistry } from '../rooms/RoomRegistry.js';
import type { IceServers } from '../ice/IceServers.js';
import type { IdentityResolver, Session } from './Session.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import type { NodeMetrics } from '../metrics/NodeMetrics.js';

/** What every handler can reach. */
export interface RequestContext {
  /** The connection the request came on; holds the joined peer and room. */
  session: Session;
  rooms: RoomRegistry;
  identities: IdentityResolver;
  config: LecternConfig;
  /** ICE servers and per-participant TURN credentials for join, resume and renewal replies. */
  ice: IceServers;
  log: FastifyBaseLogger;
  /** Where a room's joins go in a cluster (a no-op for one process). */
  cluster: ClusterNode;
  /** The node's Prometheus metrics (join durations). */
  metrics: NodeMetrics;
  /** Run work after the reply is sent (e.g. push consumers after `ready` is answered). */
  afterReply(work: () => Promise<void>): void;
}

/** Handles one method: validated data in, reply data out; throws SignallingError/SfuError to refuse. */
export type Handler<M extends MethodName> = (ctx: RequestContext, data: RequestData<M>) => Promise<ReplyData<M>>;

/** One handler per protocol method. */
export type HandlerTable = { [M in MethodName]: Handler<M> };
