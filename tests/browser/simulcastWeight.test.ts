// A lecture's capacity is counted in what each consumer forwards (#14): a consumer of a simulcast
// camera weighs the layer it forwards, not the camera's top layer. Proved here with real Chromium: an
// instructor sends the client's three-layer simulcast camera (fake device), one student watches it
// in the speaker view's large picture (top layer), one in a phone-sized window (lowest layer); the
// client asks for the layers itself, by tile size (setConsumerPreferences). The server's own
// accounting (Sfu.consumerWeights, Sfu.load) is held against what each viewer's page receives and
// what the instructor's page sends per layer, over the same window; then the small-window student
// enlarges the window and turns to the speaker view, and the load rises by what that student now
// receives. Runs inside a loopback-only network namespace (scripts/in-netns.sh).
import { afterEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
// Before any worker starts: it watches mediasoup's observer to read the layers the SFU forwards.
import { mediasoupConsumer, mediasoupProducer } from '../helpers/mediasoupLookup.js';
import { browserLecternPerFile } from '../helpers/browserLectern.js';
import { sleep, waitFor } from '../helpers/testSfu.js';
import type { ForwardLoad, WorkerLoad } from '../../sfu/index.js';
import { watchPeerConnections } from '../helpers/watchPeerConnections.js';

// One worker (startLectern's default), and no periodic load sample: the test takes each sample
// itself (Sfu.sampleLoad, what the timer calls), at the start and the end of the window it reads
// the pages' counters over, so a weight and the page's rate cover the same seconds.
const fixture = browserLecternPerFile({ media: { capacity: { loadSampleMs: 600_000 } } });
const ROOM = 'e2e-simulcast-weight';
// Three pages encoding and decoding video on two loaded cores: layers and bandwidth take time.
const SLOW = 90_000;
// How long each measurement window is. Packet rates (mediasoup's packet count over the window, and
// the page's) then differ only by the few hundred ms the two reads lag each other at the window's
// ends (a 50-100 ms stats round trip each on a loaded machine, under 10 % of 4 s) and by a frame
// cut at either end: 20 % is twice that. Bit rates: mediasoup's producer bitrate is a moving
// 2.5 s average read at the window's end, the page's the bytes over the whole 4 s, so an encoder
// still adjusting its rate moves the two apart more: 35 %. The two layers compared differ 4-8 fold.
const WINDOW_MS = 4000;
const PACKETS_TOLERANCE = 0.2;
const BITS_TOLERANCE = 0.35;
// The big tile and the small window (the lowest layer serves tiles up to 180 pixels high: sfu/layers.ts).
const LARGE = { width: 1280, height: 900 };
const SMALL = { width: 420, height: 460 };

afterEach(() => fixture.errors.expectNone());

/** A stream's RTP counters at one moment: packets, bytes with headers (as mediasoup counts them), and when. */
interface Counters {
  packets: number;
  bytes: number;
  atMs: number;
}

/** The page's video counters: what it receives (all inbound video) and what it sends, by simulcast rid. */
interface PageCounters {
  inbound: Counters;
  outbound: Record<string, Counters>;
}

function readCounters(page: Page): Promise<PageCounters> {
  return page.evaluate(async () => {
    type Stat = { type: string; kind?: string; rid?: string; timestamp: number; packetsReceived?: number; bytesReceived?: number; headerBytesReceived?: number; packetsSent?: number; bytesSent?: number; headerBytesSent?: number };
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const inbound = { packets: 0, bytes: 0, atMs: 0 };
    const outbound: Record<string, { packets: number; bytes: number; atMs: number }> = {};
    for (const pc of pcs) {
      if (pc.signalingState === 'closed') continue;
      (await pc.getStats()).forEach((s: Stat) => {
        if (s.kind !== 'video') return;
        if (s.type === 'inbound-rtp') {
          inbound.packets += s.packetsReceived ?? 0;
          inbound.bytes += (s.bytesReceived ?? 0) + (s.headerBytesReceived ?? 0);
          inbound.atMs = s.timestamp;
        } else if (s.type === 'outbound-rtp' && s.rid !== undefined) {
          outbound[s.rid] = { packets: s.packetsSent ?? 0, bytes: (s.bytesSent ?? 0) + (s.headerBytesSent ?? 0), atMs: s.timestamp };
        }
      });
    }
    return { inbound, outbound };
  });
}

/** Packets and bits per second between two readings of the same stream. */
interface Rate {
  packetRate: number;
  bitrate: number;
}

function rate(before: Counters | undefined, after: Counters | undefined): Rate {
  if (!before || !after || after.atMs <= before.atMs) return { packetRate: 0, bitrate: 0 };
  const seconds = (after.atMs - before.atMs) / 1000;
  return { packetRate: (after.packets - before.packets) / seconds, bitrate: ((after.bytes - before.bytes) * 8) / seconds };
}

/** The spatial and temporal layer the SFU forwards on this consumer now ('-' for none). */
function layersOf(consumerId: string): string {
  const current = mediasoupConsumer(consumerId)?.currentLayers;
  return current ? `${current.spatialLayer}/${current.temporalLayer ?? 0}` : '-';
}

/** One measurement window: the server's weights and load at its end, and the pages' rates over it. */
interface Window {
  /** The spatial layer each viewer's consumer forwarded through the window. */
  layer: { ann: number; ben: number };
  /** What the server weighs each viewer's consumer at, and every consumer on the worker. */
  weight: { ann: ForwardLoad; ben: ForwardLoad; all: ForwardLoad[] };
  /** The worker's load as placement and admission read it. */
  load: WorkerLoad;
  /** What each viewer's page received. */
  received: { ann: Rate; ben: Rate };
  /** What the instructor's page sent, per spatial layer (encoding index). */
  sent: Rate[];
}

interface Class {
  teacher: Page;
  ann: Page;
  ben: Page;
  annConsumer: string;
  benConsumer: string;
  producer: string;
}

/**
 * Measure one window in which neither viewer's layer changes (a switch inside it would mix two
 * layers in one rate): retried until one is steady, never judged on its numbers.
 */
async function steadyWindow(c: Class, expected: { ann: (spatial: number) => boolean; ben: (spatial: number) => boolean }): Promise<Window> {
  const { sfu } = fixture.lectern;
  const rids = (mediasoupProducer(c.producer)?.rtpParameters.encodings ?? []).map((e) => e.rid);
  expect(rids, 'the camera is sent in three simulcast layers, each with a rid').toHaveLength(3);
  const deadline = Date.now() + SLOW;
  for (let attempt = 0; ; attempt++) {
    // Readings of a track closer than 250 ms are not taken (TrackRates): space a retry from the last window's end.
    if (attempt > 0) await sleep(300);
    const startLayers = [layersOf(c.annConsumer), layersOf(c.benConsumer)];
    let switches = 0;
    const switched = (): void => void (switches += 1);
    const consumers = [mediasoupConsumer(c.annConsumer), mediasoupConsumer(c.benConsumer)];
    for (const consumer of consumers) consumer?.observer.on('layerschange', switched);
    await sfu.sampleLoad();
    const before = await Promise.all([readCounters(c.teacher), readCounters(c.ann), readCounters(c.ben)]);
    await sleep(WINDOW_MS);
    await sfu.sampleLoad();
    // A browser's packets weigh estimatorPacketCost each (its transport runs a bandwidth estimator:
    // tests/sfu/capacity.test.ts); what its consumer forwards is the weight over that cost.
    const cost = fixture.lectern.config.media.capacity.estimatorPacketCost;
    const forwards = <T extends { packetRate: number }>(w: T): T => ({ ...w, packetRate: w.packetRate / cost });
    const weights = new Map([...sfu.consumerWeights(0)].map(([id, w]) => [id, forwards(w)]));
    const worker = sfu.load().workers.find((w) => w.index === 0)!;
    const load = { ...worker, projected: forwards(worker.projected) };
    const after = await Promise.all([readCounters(c.teacher), readCounters(c.ann), readCounters(c.ben)]);
    for (const consumer of consumers) consumer?.observer.off('layerschange', switched);
    const endLayers = [layersOf(c.annConsumer), layersOf(c.benConsumer)];
    const ann = mediasoupConsumer(c.annConsumer)?.currentLayers;
    const ben = mediasoupConsumer(c.benConsumer)?.currentLayers;
    const topTemporal = (id: string) => (mediasoupConsumer(id)?.preferredLayers?.temporalLayer ?? 0);
    // Steady: the same layers at both ends, the ones this step expects, each at its full frame rate
    // (every temporal layer: a lower one would forward fewer packets than the spatial layer has).
    const steady =
      switches === 0 && startLayers.join() === endLayers.join() &&
      ann !== undefined && ben !== undefined &&
      expected.ann(ann.spatialLayer) && expected.ben(ben.spatialLayer) &&
      ann.temporalLayer === topTemporal(c.annConsumer) && ben.temporalLayer === topTemporal(c.benConsumer);
    if (steady) {
      const [teacherBefore, annBefore, benBefore] = before;
      const [teacherAfter, annAfter, benAfter] = after;
      return {
        layer: { ann: ann.spatialLayer, ben: ben.spatialLayer },
        weight: { ann: weights.get(c.annConsumer)!, ben: weights.get(c.benConsumer)!, all: [...weights.values()] },
        load,
        received: { ann: rate(annBefore!.inbound, annAfter!.inbound), ben: rate(benBefore!.inbound, benAfter!.inbound) },
        sent: rids.map((rid) => rate(teacherBefore!.outbound[rid!], teacherAfter!.outbound[rid!])),
      };
    }
    if (Date.now() > deadline) throw new Error(`no steady window: layers (ann, ben) ${startLayers.join(' ')} -> ${endLayers.join(' ')}`);
  }
}

/** `actual` is within `tolerance` (a share) of `reference`. */
function expectNear(actual: number, reference: number, tolerance: number, what: string): void {
  expect(reference, `${what}: something was measured`).toBeGreaterThan(0);
  expect(Math.abs(actual - reference), `${what}: ${Math.round(actual)} against ${Math.round(reference)} measured`).toBeLessThanOrEqual(tolerance * reference);
}

/** The weight is what the page received, and what the sender sends in that layer. */
function expectWeighsItsLayer(weight: ForwardLoad | undefined, received: Rate, sent: Rate | undefined, who: string): void {
  expect(weight, `${who}'s consumer is counted on the worker`).toBeDefined();
  expectNear(weight!.packetRate, received.packetRate, PACKETS_TOLERANCE, `${who}'s weight in packets/s vs what the page received`);
  expectNear(weight!.bitrate, received.bitrate, BITS_TOLERANCE, `${who}'s weight in bits/s vs what the page received`);
  expectNear(weight!.packetRate, sent!.packetRate, PACKETS_TOLERANCE, `${who}'s weight in packets/s vs what the sender sends in that layer`);
  expectNear(weight!.bitrate, sent!.bitrate, BITS_TOLERANCE, `${who}'s weight in bits/s vs what the sender sends in that layer`);
}

/** The worker's load is the sum of its consumers' weights, and what the two pages receive together. */
function expectLoadIsTheSum(w: Window): void {
  const sum = w.weight.all.reduce((a, b) => ({ packetRate: a.packetRate + b.packetRate, bitrate: a.bitrate + b.bitrate, consumers: a.consumers + b.consumers }), { packetRate: 0, bitrate: 0, consumers: 0 });
  // Two consumers (the two viewers' of the camera): the instructor receives nothing, nobody is due anything.
  expect(w.weight.all).toHaveLength(2);
  expect(w.load.projected.consumers).toBe(2);
  expect(w.load.projected.packetRate).toBeCloseTo(sum.packetRate, 6);
  // The bits counted are the larger of the weights and the transports' measured send rate (RTX, RTCP).
  expect(w.load.projected.bitrate).toBeGreaterThanOrEqual(sum.bitrate - 1e-6);
  expectNear(w.load.projected.packetRate, w.received.ann.packetRate + w.received.ben.packetRate, PACKETS_TOLERANCE, 'the worker\'s load in packets/s vs what both pages received');
}

function describeWindow(w: Window): string {
  const r = (x: Rate) => `${Math.round(x.packetRate)} p/s ${Math.round(x.bitrate / 1000)} kbit/s`;
  return (
    `layers sent ${w.sent.map(r).join(' | ')}; ann (layer ${w.layer.ann}) weighs ${r(w.weight.ann)}, received ${r(w.received.ann)}; ` +
    `ben (layer ${w.layer.ben}) weighs ${r(w.weight.ben)}, received ${r(w.received.ben)}; worker load ${r(w.load.projected)}`
  );
}

async function joinAs(name: string, role: 'instructor' | 'student', options: { camera: boolean; viewport: { width: number; height: number } }): Promise<Page> {
  const token = await fixture.token(ROOM, role, `${name.toLowerCase()}@uni`);
  const context = await fixture.context(name);
  await context.addInitScript(watchPeerConnections);
  const page = await context.newPage();
  await page.setViewportSize(options.viewport);
  await page.goto(`${fixture.lectern.url}/r/${ROOM}#token=${token}`);
  await page.getByLabel('Your name').fill(name);
  if (!options.camera) await page.getByLabel('Camera').uncheck();
  // No microphones: the worker's only consumers are the two of the camera, so its load is their sum.
  await page.getByLabel('Microphone').uncheck();
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#call').waitFor({ state: 'visible', timeout: 30_000 });
  return page;
}

async function speakerView(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'View' }).click();
  await page.getByLabel('Layout').selectOption('speaker');
  await page.keyboard.press('Escape');
  await page.locator('#grid .tile.main[aria-label="Teacher"]').waitFor({ timeout: 30_000 });
}

/** The consumer of the teacher's camera behind a viewer's tile, once the tile shows it. */
async function teacherConsumer(page: Page): Promise<{ consumer: string; producer: string }> {
  const tile = page.locator('.tile[aria-label="Teacher"]');
  await expect.poll(() => tile.getAttribute('data-video-consumer'), { timeout: 30_000 }).toBeTruthy();
  return { consumer: (await tile.getAttribute('data-video-consumer'))!, producer: (await tile.getAttribute('data-video-producer'))! };
}

function preferred(consumerId: string): string {
  const layers = mediasoupConsumer(consumerId)?.preferredLayers;
  return layers ? `${layers.spatialLayer}/${layers.temporalLayer ?? 0}` : '-';
}

/** The teacher's tile on a viewer's page, in CSS pixels (for a failure's message). */
async function tileSize(page: Page): Promise<string> {
  const box = await page.locator('.tile[aria-label="Teacher"]').boundingBox();
  return box ? `${Math.round(box.width)}x${Math.round(box.height)}` : 'none';
}

describe('a simulcast consumer weighs the layer it forwards', () => {
  it('weighs a large tile at the top layer and a small one at the lowest, sums them into the worker load, and follows a switch', async () => {
    const teacher = await joinAs('Teacher', 'instructor', { camera: true, viewport: { width: 800, height: 600 } });
    const ann = await joinAs('Ann', 'student', { camera: false, viewport: LARGE });
    await speakerView(ann);
    const ben = await joinAs('Ben', 'student', { camera: false, viewport: SMALL });
    const annSide = await teacherConsumer(ann);
    const benSide = await teacherConsumer(ben);
    expect(benSide.producer).toBe(annSide.producer);
    const c: Class = { teacher, ann, ben, annConsumer: annSide.consumer, benConsumer: benSide.consumer, producer: annSide.producer };
    expect(mediasoupConsumer(c.annConsumer)?.type).toBe('simulcast');

    // The client asked for the layers by tile size: the big picture the top one, the small window the lowest.
    await waitFor('ann to ask for the top layer and ben for the lowest', () =>
      mediasoupConsumer(c.annConsumer)?.preferredLayers?.spatialLayer === 2 && mediasoupConsumer(c.benConsumer)?.preferredLayers?.spatialLayer === 0, SLOW).catch(async (error: Error) => {
      throw new Error(`${error.message}: preferred (ann, ben) ${preferred(c.annConsumer)} ${preferred(c.benConsumer)}; teacher's tile (ann, ben) ${await tileSize(ann)} ${await tileSize(ben)}`);
    });
    // Bandwidth estimation ramps up, and a loaded machine may make the sender shed its top layer for
    // a while (Chromium's own CPU adaptation): the large tile forwards layer 1 or 2, the small one 0.
    const low = await steadyWindow(c, { ann: (s) => s >= 1, ben: (s) => s === 0 });
    console.log(`simulcast weight, before the switch: ${describeWindow(low)}`);

    // a) Each consumer weighs the layer it forwards: what its page received, what the sender sends in it.
    expectWeighsItsLayer(low.weight.ann, low.received.ann, low.sent[low.layer.ann], 'ann (large tile)');
    expectWeighsItsLayer(low.weight.ben, low.received.ben, low.sent[0], 'ben (small window)');
    // ...so the small tile weighs clearly less, in packets and in bits, the way the layers differ
    // (measured: the lowest layer has ~1/3 of the top one's packets and ~1/4 of its bits, ~1/2 of
    // layer 1's; the margins hold whether the large tile gets layer 2 or, under load, layer 1).
    expect(low.weight.ben.packetRate).toBeLessThan(0.7 * low.weight.ann.packetRate);
    expect(low.weight.ben.bitrate).toBeLessThan(0.6 * low.weight.ann.bitrate);
    // b) The worker's load is their sum.
    expectLoadIsTheSum(low);

    // Ben enlarges the window and turns to the speaker view: the client asks for the top layer.
    await ben.setViewportSize(LARGE);
    await speakerView(ben);
    await waitFor('ben to ask for the top layer', () => mediasoupConsumer(c.benConsumer)?.preferredLayers?.spatialLayer === 2, SLOW);
    const high = await steadyWindow(c, { ann: (s) => s >= 1, ben: (s) => s >= 1 });
    console.log(`simulcast weight, after ben's switch: ${describeWindow(high)}`);
    expectWeighsItsLayer(high.weight.ben, high.received.ben, high.sent[high.layer.ben], 'ben (large tile now)');
    expectWeighsItsLayer(high.weight.ann, high.received.ann, high.sent[high.layer.ann], 'ann (large tile)');
    expect(high.weight.ben.packetRate).toBeGreaterThan(1.4 * low.weight.ben.packetRate);
    expectLoadIsTheSum(high);
    // The load rose by about what ben now receives more (ann's share drifting a little meanwhile).
    const rise = high.load.projected.packetRate - low.load.projected.packetRate;
    const receivedMore = high.received.ben.packetRate - low.received.ben.packetRate;
    expect(receivedMore).toBeGreaterThan(0);
    expect(rise).toBeGreaterThan(0.5 * receivedMore);
    expect(rise).toBeLessThan(1.5 * receivedMore);
  }, 300_000);
});
