// The media engine alone, with real mediasoup workers.
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { release } from 'node:os';
import { workerBin } from 'mediasoup';
import { afterEach, describe, expect, it } from 'vitest';
import { Reception, Sfu, SfuError, type SfuOptions } from '../../sfu/index.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';

const base: SfuOptions = {
  workers: 2,
  listenIp: '127.0.0.1',
  rtcPort: 0,
  logLevel: 'warn',
  maxIncomingBitrate: 1_500_000,
  initialAvailableOutgoingBitrate: 600_000,
};

const started: Sfu[] = [];
async function start(options: Partial<SfuOptions> = {}): Promise<Sfu> {
  const sfu = await Sfu.create({ ...base, ...options });
  started.push(sfu);
  return sfu;
}

afterEach(async () => {
  for (const sfu of started.splice(0)) {
    const exits = sfu.pool.workers.map((w) => new Promise<void>((r) => w.worker.observer.once('close', () => r())));
    sfu.close();
    await Promise.all(exits);
  }
});

/** Why this worker and kernel cannot send through io_uring, or undefined when they can. */
function ioUringUnavailable(): string | undefined {
  // scripts/mediasoup-worker.sh builds with liburing when Debian has liburing >= 2.5.
  if (!readFileSync(workerBin).includes('io_uring_register_eventfd() failed')) return 'the mediasoup worker was built without liburing';
  if (Number(release().split('.')[0]) < 6) return `Linux ${release()} is older than 6 (mediasoup uses io_uring from 6.0)`;
  // kernel.io_uring_disabled: 0 allowed, 1 only for privileged processes (and kernel.io_uring_group), 2 never.
  const sysctl = existsSync('/proc/sys/kernel/io_uring_disabled') ? readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() : '0';
  if (!(sysctl === '0' || (sysctl === '1' && process.getuid?.() === 0))) return `kernel.io_uring_disabled is ${sysctl} for this user`;
  return undefined;
}

/** Whether `port` can be bound on 127.0.0.1 for UDP and for TCP right now. */
async function bindable(port: number): Promise<boolean> {
  const udp = createSocket('udp4');
  const udpFree = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(port, '127.0.0.1', () => resolve(true));
  });
  if (udpFree) await new Promise<void>((resolve) => udp.close(() => resolve()));
  if (!udpFree) return false;
  const tcp = createServer();
  const tcpFree = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (tcpFree) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  return tcpFree;
}

/**
 * A first port of `count` consecutive ports free for UDP and TCP (what a pool of `count` workers
 * binds). The OS picks the first, so parallel test files do not draw the same one; each is then
 * bind-tested. Another process may still take one before the workers bind: the window is short.
 */
async function freePortBase(count = 2): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = createServer();
    const first = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port));
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    if (first + count > 65_536) continue;
    let free = true;
    for (let port = first; port < first + count && free; port++) free = await bindable(port);
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1`);
}

describe('Sfu', () => {
  it('runs one WebRtcServer per worker on consecutive configured ports', async () => {
    const rtcPort = await freePortBase(2);
    const sfu = await start({ rtcPort });
    expect(sfu.pool.workers.map((w) => w.port)).toEqual([rtcPort, rtcPort + 1]);
    for (const w of sfu.pool.workers) {
      const dump = await w.webRtcServer.dump();
      expect(dump.udpSockets).toEqual([{ ip: '127.0.0.1', port: w.port }]);
      expect(dump.tcpServers).toEqual([{ ip: '127.0.0.1', port: w.port }]);
    }
  });

  it('does not send through io_uring when media.ioUring is off', async () => {
    // A worker reports liburing stats exactly when it sends through io_uring.
    const off = await start({ workers: 1, ioUring: false });
    expect((await off.pool.workers[0]!.worker.dump()).liburing).toBeUndefined();
  });

  it('sends through io_uring by default where the worker and kernel can', async (context) => {
    const unavailable = ioUringUnavailable();
    // Where io_uring cannot be used, there is nothing to prove here: say so in the summary.
    if (unavailable) context.skip(true, `io_uring unavailable: ${unavailable}`);
    const on = await start({ workers: 1 });
    expect((await on.pool.workers[0]!.worker.dump()).liburing).toMatchObject({ sqeMissCount: 0 });
  });

  it('fails with a clear error when a media port is taken', async () => {
    // The first worker's port is the OS's choice, so it is free; the second asks for the same one.
    const first = await start({ rtcPort: 0, workers: 1 });
    const rtcPort = first.pool.workers[0]!.port;
    await expect(start({ rtcPort, workers: 1 })).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${rtcPort}`));
  });

  it('spreads rooms over the least loaded worker', async () => {
    const sfu = await start();
    const rooms = await Promise.all(['a', 'b', 'c', 'd'].map((n) => sfu.createRoomMedia(n)));
    expect(rooms.map((r) => r.workerIndex).sort()).toEqual([0, 0, 1, 1]);
    rooms[0]?.close();
    expect(sfu.pool.workers.map((w) => w.routers).sort()).toEqual([1, 2]);
  });

  it('creates subscriptions paused and cascades close from room to peers to subscriptions, once', async () => {
    const sfu = await start({ workers: 1 });
    const room = await sfu.createRoomMedia('physics');
    const ada = room.addPeer('ada');
    const bob = room.addPeer('bob');
    const send = await ada.createTransport('send');
    await bob.createTransport('recv');
    bob.receiveWith(room.rtpCapabilities);
    const track = await ada.publish(send.id, 'video', vp8Parameters(), 'camera');
    // Two concurrent asks for the same track (the server's two paths to a newcomer) give one subscription.
    const [first, second] = await Promise.allSettled([bob.subscribe(track), bob.subscribe(track)]);
    expect(second.status).toBe('rejected');
    expect(bob.subscribes(track.id)).toBe(true);
    const subscription = (first as PromiseFulfilledResult<Awaited<ReturnType<typeof bob.subscribe>>>).value;
    expect(subscription.paused).toBe(true);
    expect({ peerId: subscription.peerId, source: subscription.source, trackId: subscription.trackId }).toEqual({ peerId: 'ada', source: 'camera', trackId: track.id });
    expect(sfu.load().workers[0]?.consumers).toBe(1);
    await bob.resume(subscription.id);
    expect(subscription.paused).toBe(false);

    const closes: string[] = [];
    room.on('close', (reason) => closes.push(`room:${reason}`));
    ada.on('close', () => closes.push('ada'));
    bob.on('unsubscribed', () => closes.push('bob-subscription'));
    room.close();
    room.close();
    ada.close();
    expect(closes.sort()).toEqual(['ada', 'bob-subscription', 'room:closed'].sort());
    expect(subscription.closed).toBe(true);
    expect(bob.subscribes(track.id)).toBe(false);
    expect(sfu.pool.workers[0]?.routers).toBe(0);
    expect(sfu.load().workers[0]?.consumers).toBe(0);
    await expect(ada.createTransport('send')).rejects.toBeInstanceOf(SfuError);
  });

  it('ending a track ends its subscriptions', async () => {
    const sfu = await start({ workers: 1 });
    const room = await sfu.createRoomMedia('r');
    const ada = room.addPeer('ada');
    const bob = room.addPeer('bob');
    const send = await ada.createTransport('send');
    await bob.createTransport('recv');
    bob.receiveWith(room.rtpCapabilities);
    const track = await ada.publish(send.id, 'audio', opusParameters(), 'microphone');
    const subscription = await bob.subscribe(track);
    const closed = new Promise((resolve) => bob.once('unsubscribed', resolve));
    ada.unpublish(track.id);
    expect(await closed).toBe(subscription);
    expect(bob.subscriptions.size).toBe(0);
    expect(() => ada.unpublish(track.id)).toThrow(/no producer/);
  });

  it('fans a track out to those the audience rule allows, within each subscriber\'s own video cap', async () => {
    const sfu = await start({ workers: 1 });
    const room = await sfu.createRoomMedia('cap');
    // Ada and bob are in one group, cem in another; bob takes at most two videos.
    const groups: Record<string, string> = { ada: 'main', bob: 'main', cem: 'breakout', dan: 'main', eve: 'main' };
    room.setAudience((receiver, publisher) => groups[receiver] === groups[publisher]);
    const bob = room.addPeer('bob', new Reception(2));
    await bob.createTransport('recv');
    bob.receiveWith(room.rtpCapabilities);
    const cem = room.addPeer('cem');
    await cem.createTransport('recv');
    cem.receiveWith(room.rtpCapabilities);
    const subscribed: string[] = [];
    room.on('subscribed', (subscriberId, s) => subscribed.push(`${subscriberId}<-${s.peerId}`));
    for (const [i, name] of ['ada', 'dan', 'eve'].entries()) {
      const publisher = room.addPeer(name);
      const send = await publisher.createTransport('send');
      await room.distribute(await publisher.publish(send.id, 'video', vp8Parameters(30_000 + i), 'camera'));
    }
    // Bob gets the first two cameras and no third; cem, in another group, none.
    expect(subscribed).toEqual(['bob<-ada', 'bob<-dan']);
    expect(bob.subscriptions.size).toBe(2);
    expect(cem.subscriptions.size).toBe(0);
    // Moving cem into the main group and rewiring gives cem all three (no cap of its own).
    groups.cem = 'main';
    await room.rewire();
    expect(cem.subscriptions.size).toBe(3);
  });

  it('reports a dead worker, closes its rooms and replaces it on the same port', async () => {
    const rtcPort = await freePortBase(1);
    const sfu = await start({ workers: 1, rtcPort });
    const room = await sfu.createRoomMedia('doomed');
    const pid = sfu.pool.workers[0]!.worker.pid;
    const died = new Promise<{ index: number; pid: number }>((resolve) => sfu.once('workerDied', resolve));
    const respawned = new Promise<{ index: number; pid: number }>((resolve) => sfu.once('workerRespawned', resolve));
    const roomClosed = new Promise((resolve) => room.once('close', resolve));
    process.kill(pid, 'SIGKILL');
    expect(await died).toMatchObject({ index: 0, pid });
    expect(await roomClosed).toBe('worker-died');
    const fresh = await respawned;
    expect(fresh.pid).not.toBe(pid);
    expect(sfu.pool.workers[0]?.port).toBe(rtcPort);
    const again = await sfu.createRoomMedia('reborn');
    expect(again.closed).toBe(false);
  });
});
