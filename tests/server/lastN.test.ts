// Last N over real signalling and a real worker: a participant holds video consumers only for the
// tracks on their screen, never more than rooms.maxVideoConsumers, and off-screen ones are paused by
// the server whatever the client asks.
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import type { SignallingClient } from '../helpers/SignallingClient.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';
import { consumersOnTransport } from '../helpers/mediasoupLookup.js';

const CAP = 3;
const file = lecternForFile({ rooms: { maxVideoConsumers: CAP } });

interface Person {
  client: SignallingClient;
  sendId: string;
  recvId: string;
}

async function enter(room: string, name: string): Promise<Person> {
  const client = await file.connect();
  const joined = await client.ok('join', { room, displayName: name });
  const sendId = (await client.ok('createTransport', { direction: 'send' })).id as string;
  const recvId = (await client.ok('createTransport', { direction: 'recv' })).id as string;
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as never });
  return { client, sendId, recvId };
}

/** Ann's video consumers as the worker has them: producer id -> paused. */
function videoHeld(person: Person): Map<string, boolean> {
  return new Map(consumersOnTransport(person.recvId).filter((c) => c.kind === 'video').map((c) => [c.producerId, c.paused]));
}

describe('last N', () => {
  it('caps video consumers, pauses what is off screen and sends what the view names', async () => {
    const room = 'lastn-101';
    const ann = await enter(room, 'Ann');
    const senders = await Promise.all([1, 2, 3, 4, 5].map((n) => enter(room, `Cam${n}`)));
    const cameras: string[] = [];
    for (const [i, s] of senders.entries()) {
      const { producerId } = await s.client.ok('produce', { transportId: s.sendId, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(5000 + i) });
      cameras.push(producerId as string);
    }
    const mic = await senders[0]!.client.ok('produce', { transportId: senders[0]!.sendId, kind: 'audio', source: 'microphone', rtpParameters: opusParameters(6000) });
    const audio = await ann.client.notification('consumerAdded', (d) => d.producerId === mic.producerId);
    await ann.client.ok('resumeConsumer', { consumerId: audio.consumerId });

    // No view yet: every track up to the cap, and no more.
    await expect.poll(() => videoHeld(ann).size).toBe(CAP);
    await new Promise((r) => setTimeout(r, 300));
    expect(videoHeld(ann).size).toBe(CAP);
    expect(ann.client.received('consumerAdded').filter((d) => d.kind === 'video')).toHaveLength(CAP);
    for (const added of ann.client.received('consumerAdded')) await ann.client.ok('resumeConsumer', { consumerId: added.consumerId });
    const first = [...videoHeld(ann).keys()];
    expect([...videoHeld(ann).values()]).toEqual([false, false, false]);

    // A page of two that holds one track she has and two she has not: two off-screen consumers
    // make room, the one left off screen is paused, the new ones arrive.
    const missing = cameras.filter((id) => !first.includes(id));
    const page = [first[0]!, missing[0]!];
    expect((await ann.client.ok('setView', { video: page })).video).toEqual(page);
    const added = await ann.client.notification('consumerAdded', (d) => d.producerId === missing[0]);
    await ann.client.ok('resumeConsumer', { consumerId: added.consumerId });
    const held = videoHeld(ann);
    expect(held.size).toBeLessThanOrEqual(CAP);
    expect(held.get(first[0]!)).toBe(false);
    expect(held.get(missing[0]!)).toBe(false);
    for (const [producerId, paused] of held) if (!page.includes(producerId)) expect(paused).toBe(true);
    // The audio consumer is not the view's business.
    expect(consumersOnTransport(ann.recvId).find((c) => c.kind === 'audio')?.paused).toBe(false);

    // Asking to resume an off-screen consumer does not make it flow.
    const offScreen = consumersOnTransport(ann.recvId).find((c) => c.kind === 'video' && !page.includes(c.producerId));
    // One of the first three made room; the third is kept, paused, for a quick page turn back.
    expect(held.size).toBe(CAP);
    await ann.client.ok('resumeConsumer', { consumerId: offScreen!.id });
    expect(offScreen!.paused).toBe(true);

    // A view longer than the cap is cut to it; ids that are not tracks of the room are not sent.
    const reply = await ann.client.ok('setView', { video: ['not-a-track', ...cameras] });
    expect(reply.video).toEqual(cameras.slice(0, CAP));
    for (const d of ann.client.received('consumerAdded')) await ann.client.send('resumeConsumer', { consumerId: d.consumerId });
    const flowing = () => [...videoHeld(ann)].filter(([, paused]) => !paused).map(([id]) => id).sort();
    await expect.poll(flowing).toEqual(cameras.slice(0, CAP).sort());
    expect(videoHeld(ann).size).toBe(CAP);

    // Bad input is refused by the schema, naming the field.
    const bad = await ann.client.send('setView', { video: [cameras[0]!, cameras[0]!] });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    const extra = await ann.client.send('setView', { video: [], audio: [] } as never);
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
  });
});
