// The pages a person opens: the landing page and /r/<room>. Both are the same single-page client;
// the room name is read from the URL by the client and validated again by the join request.
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import { RecordingId, RoomName } from '../../protocol/index.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import type { RecordingService } from '../recording/RecordingService.js';
import { toRecordingHolder } from './recordingHolder.js';

/** What the pages need: the built client, and (for /play) where recordings are in the cluster. */
export interface PagesOptions {
  clientDir: string;
  sourceMaps: boolean;
  cluster: ClusterNode;
  recordings: RecordingService;
}

/** Serve the built client: /assets/* files, / and /r/:room pages, /play/:id. */
export async function pages(app: FastifyInstance, options: PagesOptions): Promise<void> {
  await app.register(fastifyStatic, {
    root: options.clientDir,
    prefix: '/assets/',
    index: false,
    // Bundle file names do not change between versions: keep caching short so upgrades show at once.
    maxAge: '5m',
    // Source maps only where the operator asked for them (development): 404 otherwise.
    allowedPath: (path) => options.sourceMaps || !path.endsWith('.map'),
  });

  // No reply.type() before sendFile: @fastify/static sets text/html from the file name, and a type set
  // here would stay on its not-found reply too, whose JSON body then cannot be serialised: Fastify
  // threw outside the request and the process died (a node with an unbuilt client, on GET /).
  app.get('/', async (_request, reply) => reply.sendFile('index.html'));

  app.get(
    '/r/:room',
    // Frameable by the registered LMSes only (server/plugins/securityHeaders.ts): a course opens its class in the LMS page.
    { schema: { params: Type.Object({ room: RoomName }) }, config: { frameable: true } },
    async (_request, reply) => reply.header('cache-control', 'no-store').sendFile('index.html'),
  );

  // The playback page; the recording API (server/routes/recordings.ts) decides who may see what.
  // A recording held by another node: the page itself is sent there, so that it runs on the
  // holder's origin and its requests (same-origin, relative) are answered by the holder.
  app.get(
    '/play/:id',
    { schema: { params: Type.Object({ id: RecordingId }) }, preHandler: toRecordingHolder({ cluster: options.cluster, recordings: options.recordings }) },
    async (_request, reply) => reply.header('cache-control', 'no-store').sendFile('playback.html'),
  );
}
