// The media capabilities of this server's rooms, before joining any. The page loads its
// mediasoup-client Device with them while the person types their name: probing the browser's
// codecs costs a throw-away PeerConnection (100-150 ms in the join bench) that would otherwise
// sit between the click and the first picture. The same for every room; nothing about anyone.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Sfu } from '../../sfu/index.js';
import { SfuError } from '../../sfu/index.js';
import { HttpErrorBody, httpErrorBody } from '../../protocol/index.js';

const Capabilities = Type.Object({
  // mediasoup's RtpCapabilities, passed through as mediasoup made them (the join reply does the same).
  routerRtpCapabilities: Type.Unknown(),
});

/** GET /api/rtp-capabilities. */
export async function rtpCapabilities(app: FastifyInstance, options: { sfu: Sfu }): Promise<void> {
  app.get('/api/rtp-capabilities', { schema: { response: { 200: Capabilities, 503: HttpErrorBody } } }, async (_request, reply) => {
    try {
      const routerRtpCapabilities = await options.sfu.rtpCapabilities();
      return reply.header('cache-control', 'no-cache').send({ routerRtpCapabilities });
    } catch (error) {
      if (error instanceof SfuError) return reply.code(503).send(httpErrorBody('unavailable', 'no media worker is running'));
      throw error;
    }
  });
}
