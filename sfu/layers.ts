// Which simulcast layer a subscription gets for the tile it is shown in: one rule for every kind of
// subscriber (a browser's tile, a plain receiver that names a height).
import * as mediasoup from 'mediasoup';
import type { TrackConsumer } from './Track.js';

// Simulcast cameras send three layers at 1/4, 1/2 and full resolution of a nominal 720-line
// picture; a tile this many pixels high or less gets that layer.
const LAYER_MAX_HEIGHT = [180, 360];

/**
 * Cap a simulcast consumer at the layer that fits a tile `height` pixels high. mediasoup then picks,
 * at or below that cap, the best layer the receiver's estimated bandwidth allows. Returns the
 * preferred spatial layer (0 for a non-simulcast track).
 */
export async function preferLayerFor(consumer: Pick<TrackConsumer, 'type' | 'rtpParameters' | 'setPreferredLayers'>, height: number): Promise<number> {
  if (consumer.type !== 'simulcast' && consumer.type !== 'svc') return 0;
  const encoding = consumer.rtpParameters.encodings?.[0];
  const { spatialLayers, temporalLayers } = mediasoup.parseScalabilityMode(encoding?.scalabilityMode);
  const fitting = LAYER_MAX_HEIGHT.findIndex((max) => height <= max);
  const spatialLayer = Math.min(spatialLayers - 1, fitting === -1 ? spatialLayers - 1 : fitting);
  await consumer.setPreferredLayers({ spatialLayer, temporalLayer: temporalLayers - 1 });
  return spatialLayer;
}
