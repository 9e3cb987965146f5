// Last N needs every client to know every track, consumed or not: a participant whose view was
// named before a screen was shared (or who is past the video cap) gets no consumer of it, so the
// server tells them the track exists (peerUpdated with the sender's producers), and that it is
// gone when it closes. Without it a screen shared after the view was set is never shown.
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import type { SignallingClient } from '../helpers/SignallingClient.js';
import { vp8Parameters } from '../helpers/media.js';

const file = lecternForFile({});

async function enter(room: string, name: string): Promise<{ client: SignallingClient; sendId: string; peerId: string }> {
  const client = await file.connect();
  const joined = await client.ok('join', { room, displayName: name });
  const sendId = (await client.ok('createTransport', { direction: 'send' })).id as string;
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as never });
  return { client, sendId, peerId: joined.peerId as string };
}

describe('tracks are announced to those who do not receive them', () => {
  it('a track started after the view was named reaches the viewer as a producer it can ask for', async () => {
    const room = 'announce-101';
    const ann = await enter(room, 'Ann');
    const ben = await enter(room, 'Ben');
    await ann.client.notification('peersJoined', (d) => d.peers.some((p) => p.id === ben.peerId));
    // Ann's page shows nobody's video yet (a student camera started later stands in for a screen
    // share here: guests may not share a screen, and the path is the same): her view is empty.
    expect(await ann.client.ok('setView', { video: [] })).toEqual({ video: [] });

    const { producerId } = (await ben.client.ok('produce', { transportId: ben.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(7100) })) as { producerId: string };
    const update = await ann.client.notification('peerUpdated', (d) => d.peer.id === ben.peerId && d.peer.producers.some((p) => p.id === producerId));
    expect(update.peer.producers).toEqual([{ id: producerId, kind: 'video', source: 'camera', paused: false }]);
    expect(ann.client.received('consumerAdded').some((c) => c.producerId === producerId)).toBe(false);

    // Named in her view, it is sent.
    expect(await ann.client.ok('setView', { video: [producerId] })).toEqual({ video: [producerId] });
    await ann.client.notification('consumerAdded', (d) => d.producerId === producerId);

    // Stopped: she is told it is gone.
    await ben.client.ok('closeProducer', { producerId });
    await ann.client.notification('peerUpdated', (d) => d.peer.id === ben.peerId && d.peer.producers.length === 0);
  });

  it('a participant who leaves is not brought back by the close of their tracks', async () => {
    const room = 'announce-102';
    const ann = await enter(room, 'Ann');
    const ben = await enter(room, 'Ben');
    await ann.client.ok('setView', { video: [] });
    await ben.client.ok('produce', { transportId: ben.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(7200) });
    await ann.client.notification('peerUpdated', (d) => d.peer.id === ben.peerId);
    const before = ann.client.received('peerUpdated').length;
    await ben.client.ok('leave', {});
    await ann.client.notification('peersLeft', (d) => d.peerIds.includes(ben.peerId));
    await new Promise((r) => setTimeout(r, 300));
    expect(ann.client.received('peerUpdated').length).toBe(before);
  });
});
