// The rule that picks forwarded microphones, on a clock of our own: hysteresis, peak hold, limits.
import { describe, expect, it } from 'vitest';
import { SpeakerSelection } from '../../sfu/SpeakerSelection.js';

const tuning = { holdMs: 2000, marginDb: 6, minForwardMs: 1500 };

function selection(limit: number, ids: string[]) {
  const s = new SpeakerSelection(limit, tuning);
  for (const id of ids) s.add({ id, peerId: `peer-${id}`, paused: false });
  s.decide(0);
  return s;
}

/** Feed one interval of levels and decide; returns the forwarded ids. */
function tick(s: SpeakerSelection, now: number, levels: Record<string, number>, ids: string[]): string[] {
  s.measure(now, new Map(Object.entries(levels)));
  s.decide(now);
  return ids.filter((id) => s.isForwarded(id));
}

describe('SpeakerSelection', () => {
  const ids = ['a', 'b', 'c'];

  it('does not flap between voices within the margin', () => {
    const s = selection(2, ids);
    let forwarded = tick(s, 500, { a: -20, b: -30, c: -33 }, ids);
    expect(forwarded).toEqual(['a', 'b']);
    // b and c trade places by 3 dB every interval for 10 s: the set never changes.
    for (let t = 1000; t <= 10_000; t += 500) {
      const odd = (t / 500) % 2 === 1;
      forwarded = tick(s, t, { a: -20, b: odd ? -33 : -30, c: odd ? -30 : -33 }, ids);
      expect(forwarded).toEqual(['a', 'b']);
    }
  });

  it('keeps a speaker pausing between sentences (peak hold) and drops one silent for longer', () => {
    const s = selection(2, ids);
    tick(s, 500, { a: -20, b: -25, c: -60 }, ids);
    tick(s, 2000, { a: -20, b: -25, c: -60 }, ids);
    // b pauses for a second: c is louder now, but b's recent peak still counts.
    expect(tick(s, 2500, { a: -20, c: -40 }, ids)).toEqual(['a', 'b']);
    expect(tick(s, 3000, { a: -20, c: -40 }, ids)).toEqual(['a', 'b']);
    // Silent for longer than the hold: c takes the place.
    expect(tick(s, 4600, { a: -20, c: -40 }, ids)).toEqual(['a', 'c']);
  });

  it('does not replace a voice before its minimum time, then does', () => {
    const s = selection(1, ids);
    expect(tick(s, 500, { a: -30 }, ids)).toEqual(['a']);
    expect(tick(s, 1000, { a: -30, b: -10 }, ids)).toEqual(['a']);
    expect(tick(s, 2000, { a: -30, b: -10 }, ids)).toEqual(['b']);
  });

  it('forwards all open microphones with limit 0 or at most M open; never a muted one', () => {
    const s = selection(0, ids);
    expect(tick(s, 500, { a: -90 }, ids)).toEqual(ids);
    s.limit = 3;
    expect(tick(s, 1000, {}, ids)).toEqual(ids);
    s.setPaused('b', true);
    expect(tick(s, 1500, {}, ids)).toEqual(['a', 'c']);
  });

  it('forwards pinned participants outside the limit and counts the limit per group', () => {
    const s = new SpeakerSelection(1, tuning);
    s.pin('teacher', true);
    s.setGroup('p1', 'g1');
    s.setGroup('p2', 'g1');
    s.setGroup('p3', 'g2');
    for (const [id, peerId] of [['t', 'teacher'], ['x', 'p1'], ['y', 'p2'], ['z', 'p3']]) s.add({ id: id!, peerId: peerId!, paused: false });
    const all = ['t', 'x', 'y', 'z'];
    expect(tick(s, 500, { t: -100, x: -10, y: -50, z: -90 }, all)).toEqual(['t', 'x', 'z']);
  });
});
