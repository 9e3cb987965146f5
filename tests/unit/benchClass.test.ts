// The class bench's bookkeeping: which cameras each participant's gallery page shows, and which
// subscribers it flags. Pure functions over plain data; the scenario itself runs in `npm run bench`.
import { describe, expect, it } from 'vitest';
import { galleryPages } from '../../bench/lib/galleryPages.js';
import { receptions } from '../../bench/lib/reception.js';
import type { BotDetail } from '../../bench/lib/botThread.js';
import type { TransportState } from '../../bench/lib/lecternProcess.js';

describe('gallery pages', () => {
  const people = [
    { name: 'I', videoProducerId: 'cam-I' },
    ...Array.from({ length: 40 }, (_, i) => ({ name: `S${i}`, videoProducerId: i < 30 ? `cam-S${i}` : undefined })),
  ];

  it('holds at most a page, leads with the instructor, never shows your own camera, and shows every camera somewhere', () => {
    const pages = galleryPages(people, 'I', 25);
    for (const p of people) {
      const page = pages[p.name]!;
      expect(page.length).toBeLessThanOrEqual(25);
      expect(new Set(page).size).toBe(page.length);
      if (p.videoProducerId) expect(page).not.toContain(p.videoProducerId);
      if (p.name !== 'I') expect(page[0]).toBe('cam-I');
    }
    expect(pages['S35']).toHaveLength(25);
    const shown = new Set(Object.values(pages).flat());
    expect(shown.size).toBe(31);
  });

  it('shows every other camera when they fit on a page', () => {
    const pages = galleryPages(people.slice(0, 13), 'I', 25);
    expect(pages['I']).toHaveLength(12);
    expect(pages['S3']).toHaveLength(12);
  });
});

describe('reception per subscriber', () => {
  const bot = (name: string, transport: string, perConsumer: [string, 'audio' | 'video', number][]): BotDetail => {
    const sum = (kind: string) => perConsumer.filter((c) => c[1] === kind).reduce((a, c) => a + c[2], 0);
    const streams = (kind: string) => perConsumer.filter((c) => c[1] === kind && c[2] > 0).length;
    return {
      name,
      consumers: perConsumer.length,
      receive: 'connected',
      errors: [],
      video: { received: sum('video'), lost: 0, streams: streams('video') },
      audio: { received: sum('audio'), lost: 0, streams: streams('audio') },
      recvTransportId: transport,
      producers: [],
      perConsumer: perConsumer.map(([consumerId, kind, received]) => ({ consumerId, producerId: `p-${consumerId}`, kind, received, lost: 0, pausedByServer: false })),
    };
  };
  const transport = (id: string, consumers: [string, 'audio' | 'video', boolean, number][], iceState = 'completed'): TransportState => ({
    id,
    iceState,
    dtlsState: 'connected',
    consumers: consumers.map(([cid, kind, paused, packets]) => ({ id: cid, producerId: `p-${cid}`, kind, paused, producerPaused: false, packets })),
  });

  it('flags a subscriber at zero, one far below the others, and one missing a running stream; not the rest', () => {
    const bots = [
      bot('ok', 't1', [['a1', 'video', 150], ['a2', 'audio', 500]]),
      bot('ok2', 't2', [['b1', 'video', 150], ['b2', 'audio', 500]]),
      bot('zero', 't3', [['c1', 'video', 0], ['c2', 'audio', 0]]),
      bot('low', 't4', [['d1', 'video', 10], ['d2', 'audio', 100]]),
      bot('silent-stream', 't5', [['e1', 'video', 0], ['e2', 'audio', 600]]),
      bot('paused-off-page', 't6', [['f1', 'video', 0], ['f2', 'audio', 600]]),
    ];
    const before = [transport('t1', [['a1', 'video', false, 0], ['a2', 'audio', false, 0]])];
    const after = [
      transport('t1', [['a1', 'video', false, 150], ['a2', 'audio', false, 500]]),
      transport('t2', [['b1', 'video', false, 150], ['b2', 'audio', false, 500]]),
      transport('t3', [['c1', 'video', false, 0], ['c2', 'audio', false, 0]], 'new'),
      transport('t4', [['d1', 'video', false, 150], ['d2', 'audio', false, 500]]),
      transport('t5', [['e1', 'video', false, 150], ['e2', 'audio', false, 600]]),
      transport('t6', [['f1', 'video', true, 0], ['f2', 'audio', false, 600]]),
    ];
    const r = new Map(receptions(bots, before, after).map((x) => [x.name, x]));
    expect(r.get('ok')!.flag).toBeUndefined();
    expect(r.get('ok')!.sent).toBe(650);
    expect(r.get('paused-off-page')!.flag).toBeUndefined();
    expect(r.get('paused-off-page')!.activeVideoConsumers).toBe(0);
    expect(r.get('zero')!.flag).toMatch(/received nothing; the SFU sent it nothing.*ICE new/);
    expect(r.get('low')!.flag).toMatch(/% of the median.*the SFU sent 650 packets, the bot counted 110/);
    expect(r.get('silent-stream')!.flag).toMatch(/1 running consumer\(s\) delivered nothing \(video e1: SFU sent 150\)/);
  });
});
