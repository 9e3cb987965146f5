// The one definition of a node's load: what it reports in the registry, what placement compares,
// and what `lectern_node_load` exports. The fuller of participants over capacity and, when given,
// its media workers' projected load over what they carry: the packets/s, bits/s and consumers that
// admission refuses by (sfu's loadShare of Sfu.load()), so the cluster sees a node full when its own
// admission would refuse. 1 is full.
import { loadShare, type MediaLoad } from '../../sfu/index.js';

/** Load of a node with `participants` of `capacity`, and its media load (`Sfu.load()`) when known. */
export function nodeLoad(participants: number, capacity: number, media?: MediaLoad): number {
  const byParticipants = capacity > 0 ? participants / capacity : 1;
  return media ? Math.max(byParticipants, mediaLoad(media)) : byParticipants;
}

/** How full a node's media workers are (projected against capacity; no live worker: full). */
export function mediaLoad(media: MediaLoad): number {
  return media.workers.length === 0 ? 1 : loadShare(media.projected, media.capacity);
}
