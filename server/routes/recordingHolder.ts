// A recording lives on the disk of the node that recorded it, while every node answers the one
// shared site name. A request for a recording this node does not hold is sent to the node that does
// (the directory in the cluster coordinator names it): a redirect to the same path and query there,
// 302 for page and API reads and 307 for the rest (DELETE, POST /links), which keeps the method. A
// client following a 307 decides itself whether to send its credential on (browsers and curl drop
// Authorization across origins); the playback page never meets one: its page request is sent on and
// it then runs on the holder's origin, where every request it makes is same-origin.
// The holder down (or the directory unreadable) is a 503 that says so, never "no such recording":
// default deny, it is not known to be gone. No node holds it: the route answers as it always did.
// Nothing is audited here: the holder writes the audit entries of what it serves or refuses.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { httpErrorBody } from '../../protocol/index.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import type { RecordingService } from '../recording/RecordingService.js';
import { onNode } from './nodeRedirect.js';

/** A preHandler for routes with an `:id` recording parameter (validated by then). */
export function toRecordingHolder(options: { cluster: ClusterNode; recordings: RecordingService }): preHandlerAsyncHookHandler {
  const { cluster, recordings } = options;
  // Returning the reply (after sending) ends the request here: the route does not run.
  return async function toHolder(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const { id } = request.params as { id?: unknown };
    if (typeof id !== 'string' || !cluster.clustered || (await recordings.holds(id))) return undefined;
    const where = await cluster.recordingElsewhere(id);
    if (where.at === 'unknown') return undefined;
    void reply.header('cache-control', 'no-store');
    if (where.at === 'unavailable') return reply.code(503).send(httpErrorBody('unavailable', where.message));
    const read = request.method === 'GET' || request.method === 'HEAD';
    return reply.redirect(onNode(where.url, request.url), read ? 302 : 307);
  };
}
