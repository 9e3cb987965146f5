// An edge room over the edge node's workers, in one process with the real parts: a home router on
// a real mediasoup worker, its tracks sent into a RemotePipe (SRTP and RTX) whose far end is opened
// over the real control channel (InternalClient -> InternalServer, signed) on an edge EdgeService
// with two real workers. Checked at mediasoup itself (its observer API): which worker each edge
// subscriber's router is on, that a pipe closing closes every consumer on both routers, and that the
// emptied edge room closes both routers. Also what the edge registers as its room: counted in
// consumers, not subscribers.
import '../helpers/mediasoupLookup.js';
import * as mediasoup from 'mediasoup';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { InternalServer } from '../../server/cluster/InternalServer.js';
import { InternalClient } from '../../server/cluster/InternalClient.js';
import { EdgeService } from '../../server/cluster/EdgeService.js';
import { LocalCoordinator } from '../../server/cluster/LocalCoordinator.js';
import { RpcEdgeLink } from '../../server/cluster/RpcEdgeLink.js';
import { RemotePipe } from '../../sfu/RemotePipe.js';
import { Track, type TrackProducer } from '../../sfu/Track.js';
import { roomMediaCodecs, type Sfu, type mediasoupTypes as types } from '../../sfu/index.js';
import { mediasoupConsumer } from '../helpers/mediasoupLookup.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';
import { cleanupAfterEach, startTestSfu, waitFor, type Cleanups } from '../helpers/testSfu.js';

const SECRET = 'a-cluster-secret-shared-by-every-node-0123456789';
const ROOM = 'lecture-500';
const log = pino({ level: 'silent' });
const cleanups = cleanupAfterEach();
const PIPES = { ip: '127.0.0.1', portMin: 45000, portMax: 45999 };

/** Live mediasoup routers per worker pid, as mediasoup reports them. */
const liveRouters = new Map<number, Set<string>>();
mediasoup.observer.on('newworker', (worker) => {
  const live = new Set<string>();
  liveRouters.set(worker.pid, live);
  worker.observer.on('newrouter', (router) => {
    live.add(router.id);
    router.observer.once('close', () => live.delete(router.id));
  });
});

/** A home router with `n` tracks (one microphone, the rest cameras) published on a plain transport. */
async function homeTracks(sfu: Sfu, n: number): Promise<{ router: types.Router; tracks: Track[] }> {
  const router = await sfu.pool.live[0]!.worker.createRouter({ mediaCodecs: roomMediaCodecs });
  const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const tracks: Track[] = [];
  for (let i = 0; i < n; i++) {
    const audio = i === 0;
    const producer = (await transport.produce({
      kind: audio ? 'audio' : 'video',
      rtpParameters: (audio ? opusParameters(1000 + i) : vp8Parameters(2000 + i)) as unknown as types.RtpParameters,
      appData: { source: audio ? 'microphone' : 'camera', peerId: 'ada' },
    })) as TrackProducer;
    tracks.push(new Track(producer));
  }
  return { router, tracks };
}

/** An edge node-b (two workers, `capacity`) behind its control listener, and node-a's link to it. */
async function edgeNode(cleanups: Cleanups, capacity: Record<string, number>) {
  const sfu = await startTestSfu(cleanups, { workers: 2, capacity: { loadSampleMs: 60_000, ...capacity } });
  const coordinator = new LocalCoordinator({ country: 'DE', checkPlacement: true });
  await coordinator.register({ id: 'node-a', signallingUrl: 'http://127.0.0.1:1', placement: { country: 'DE' }, capacity: 100, load: 0, draining: false, startedAt: Date.now() }, 600_000);
  const service = new EdgeService(sfu, coordinator, PIPES, 100, log);
  const server = await InternalServer.start({ host: '127.0.0.1', port: 0, nodeId: 'node-b', secret: SECRET, handlers: service.handlers(), logger: log });
  cleanups.push(async () => {
    service.close();
    await server.close();
  });
  const link = new RpcEdgeLink('node-b', server.url, ROOM, new InternalClient('node-a', SECRET));
  const rtpCapabilities = await sfu.rtpCapabilities();
  /** A subscriber with a receive transport on the edge consuming every track. */
  const subscribe = async (id: string, tracks: Track[]) => {
    const transport = await link.createTransport(id, tracks.length);
    const consumers: string[] = [];
    for (const track of tracks) consumers.push((await link.consume(transport.id, track.id, rtpCapabilities)).id);
    return { transport: transport.id, consumers, port: transport.iceCandidates[0]!.port };
  };
  return { sfu, service, link, subscribe };
}

describe('an edge room spread over the edge node\'s workers', () => {
  it('puts the subscriber past the threshold on the second worker; a pipe closing closes the consumers on both routers; the empty room closes both routers', async () => {
    const home = await startTestSfu(cleanups);
    const { router, tracks } = await homeTracks(home, 2);
    const edge = await edgeNode(cleanups, { roomSpreadConsumers: 2 });
    const pipe = await RemotePipe.open(router, edge.link, PIPES, { host: home.pool.live[0]!, place: router });
    for (const track of tracks) await pipe.send(track);
    // Each track sent into the pipe is a consumer on the home's worker, weighed like any other.
    expect(home.pool.live[0]!.consumers).toBe(tracks.length);
    expect(home.load().projected.consumers).toBe(tracks.length);

    const carol = await edge.subscribe('carol', tracks);
    const dave = await edge.subscribe('dave', tracks);
    const [w0, w1] = edge.sfu.pool.live;
    // Each on its own worker's WebRtcServer, one router of the room on each worker.
    expect(new Set([carol.port, dave.port])).toEqual(new Set([w0!.port, w1!.port]));
    expect(edge.sfu.load().workers.map((w) => w.routers)).toEqual([1, 1]);
    expect([w0!, w1!].map((w) => liveRouters.get(w.worker.pid)!.size)).toEqual([1, 1]);
    expect([...carol.consumers, ...dave.consumers].every((id) => mediasoupConsumer(id) && !mediasoupConsumer(id)!.closed)).toBe(true);
    // Both piped in over one SRTP pipe from the home; the second worker's router gets them from the first.
    const routers = (await edge.service.routers()).map((r) => [r.via, r.tracks, r.consumers]).sort();
    expect(routers).toEqual([
      ['home-pipe', 2, 2],
      ['worker-pipe', 2, 2],
    ]);

    // The home's pipe closes: what came through it closes on both routers, down to every consumer.
    pipe.close();
    await waitFor('every edge consumer closed', () => [...carol.consumers, ...dave.consumers].every((id) => !mediasoupConsumer(id)));
    await waitFor('the pipe consumers uncounted at home', () => home.pool.live[0]!.consumers === 0);
    // Its subscribers leave: the edge room is empty, and both routers close (at mediasoup).
    await edge.link.closeSubscriber('carol');
    await edge.link.closeSubscriber('dave');
    await waitFor('both edge routers closed', () => [w0!, w1!].every((w) => liveRouters.get(w.worker.pid)!.size === 0));
    expect(edge.sfu.load().workers.map((w) => [w.routers, w.consumers])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(await edge.service.routers()).toEqual([]);
  });

  it('spreads a class arriving together: transports asked before any track is piped are placed by what the home says they are due', async () => {
    const home = await startTestSfu(cleanups);
    const { router, tracks } = await homeTracks(home, 2);
    const edge = await edgeNode(cleanups, { roomSpreadConsumers: 2 });
    // Carol and Dave ask for their transports at once, before the first of them has subscribed.
    const [carol, dave] = await Promise.all([edge.link.createTransport('carol', 2), edge.link.createTransport('dave', 2)]);
    const [w0, w1] = edge.sfu.pool.live;
    expect(new Set([carol.iceCandidates[0]!.port, dave.iceCandidates[0]!.port])).toEqual(new Set([w0!.port, w1!.port]));
    // Then the tracks come, and each receives them on its own worker.
    const pipe = await RemotePipe.open(router, edge.link, PIPES, { host: home.pool.live[0]!, place: router });
    for (const track of tracks) await pipe.send(track);
    const rtpCapabilities = await edge.sfu.rtpCapabilities();
    for (const transport of [carol, dave]) for (const track of tracks) await edge.link.consume(transport.id, track.id, rtpCapabilities);
    expect((await edge.service.routers()).map((r) => [r.via, r.consumers]).sort()).toEqual([
      ['home-pipe', 2],
      ['worker-pipe', 2],
    ]);
  });

  it('registers its room in consumers: a subscriber of a three-track room takes three of the workers\' consumers', async () => {
    const home = await startTestSfu(cleanups);
    const { router, tracks } = await homeTracks(home, 3);
    // Two workers of 10 consumers each: 20. Spread at 100, so everyone stays on the first router.
    const edge = await edgeNode(cleanups, { consumersPerWorker: 10, roomSpreadConsumers: 100 });
    const pipe = await RemotePipe.open(router, edge.link, PIPES, { host: home.pool.live[0]!, place: router });
    for (const track of tracks) await pipe.send(track);
    // Nobody here yet: the free consumers less the instructors' 10 % (the edge's own admission keeps
    // it too), at one each (18), below cluster.internal.edgeSubscribers (100).
    expect(await edge.service.room()).toBe(18);
    await edge.subscribe('carol', tracks);
    await edge.subscribe('dave', tracks);
    // 6 consumers held (no worker pipe: both are on the first router): (18 - 6) / 3 each = 4 more
    // subscribers, not the 98 a count of subscribers says.
    expect(await edge.service.subscriberCount()).toBe(2);
    expect(await edge.service.room()).toBe(4);
  });
});
