// Which microphones are forwarded when more are open than a room forwards: the M loudest, per group
// (main room, each breakout room), with hysteresis so two similar voices do not make the forwarded
// set flap every interval. Pure bookkeeping over audio levels and a clock: no mediasoup here, so the
// rule is in one place and LoudestSpeakers only applies its answers.

/** dBov of silence: the bottom of the ssrc-audio-level scale (RFC 6464). */
export const SILENT_DBOV = -127;

/** The timing and margins of the selection. */
export interface SpeakerSelectionTuning {
  /**
   * A voice scores the loudest level it had over this window (peak hold): a speaker pausing between
   * sentences keeps their place, and a cough is forgotten after it.
   */
  holdMs: number;
  /** A challenger replaces a forwarded voice only when this many dB louder than it. */
  marginDb: number;
  /** A voice just put through is not replaced before this long, whatever the levels do. */
  minForwardMs: number;
}

/** One microphone the selection knows about. */
export interface Microphone {
  id: string;
  /** The participant sending it. */
  peerId: string;
  /** Muted microphones send nothing and never take a place. */
  paused: boolean;
}

interface Entry extends Microphone {
  forwarded: boolean;
  /** When it was last put through (ms on the selection's clock). */
  forwardedSince: number;
  /** Order of arrival: among equal scores the earlier keeps its place. */
  order: number;
  levels: { at: number; dbov: number }[];
}

/** Chooses the forwarded microphones; `decide` returns what changed. */
export class SpeakerSelection {
  readonly #tuning: SpeakerSelectionTuning;
  readonly #entries = new Map<string, Entry>();
  readonly #pinned = new Set<string>();
  readonly #groups = new Map<string, string>();
  #limit: number;
  #arrivals = 0;

  /** `limit` 0 forwards every open microphone. */
  constructor(limit: number, tuning: SpeakerSelectionTuning) {
    this.#limit = limit;
    this.#tuning = tuning;
  }

  /** How many open microphones per group are forwarded (0: all). */
  get limit(): number {
    return this.#limit;
  }

  set limit(value: number) {
    this.#limit = value;
  }

  /** Start tracking a microphone; it is forwarded at once only if there is a free place. */
  add(microphone: Microphone): void {
    this.#entries.set(microphone.id, { ...microphone, forwarded: false, forwardedSince: 0, order: this.#arrivals++, levels: [] });
  }

  /** Stop tracking a microphone (closed). */
  remove(id: string): void {
    this.#entries.delete(id);
  }

  /** A microphone was muted or unmuted. */
  setPaused(id: string, paused: boolean): void {
    const entry = this.#entries.get(id);
    if (entry) entry.paused = paused;
  }

  /** Always forward this participant's microphone, outside the limit (or stop doing so). */
  pin(peerId: string, pinned: boolean): void {
    if (pinned) this.#pinned.add(peerId);
    else this.#pinned.delete(peerId);
  }

  /** The group a participant hears and is heard in; the limit applies per group. */
  setGroup(peerId: string, group: string): void {
    this.#groups.set(peerId, group);
  }

  /** Forget a participant who left. */
  forgetPeer(peerId: string): void {
    this.#pinned.delete(peerId);
    this.#groups.delete(peerId);
  }

  /** Whether a microphone is forwarded now. */
  isForwarded(id: string): boolean {
    return this.#entries.get(id)?.forwarded ?? false;
  }

  /** Levels measured over the last interval; microphones missing from `dbov` were silent. */
  measure(now: number, dbov: ReadonlyMap<string, number>): void {
    for (const entry of this.#entries.values()) {
      entry.levels.push({ at: now, dbov: dbov.get(entry.id) ?? SILENT_DBOV });
      while (entry.levels.length > 0 && entry.levels[0]!.at < now - this.#tuning.holdMs) entry.levels.shift();
    }
  }

  /** Recompute the forwarded set; returns the microphones whose forwarding changed. */
  decide(now: number): { id: string; forwarded: boolean }[] {
    const desired = new Map<string, boolean>();
    const candidates = new Map<string, Entry[]>();
    for (const entry of this.#entries.values()) {
      if (entry.paused) desired.set(entry.id, false);
      else if (this.#limit === 0 || this.#pinned.has(entry.peerId)) desired.set(entry.id, true);
      else {
        const group = this.#groups.get(entry.peerId) ?? '';
        const list = candidates.get(group) ?? [];
        list.push(entry);
        candidates.set(group, list);
      }
    }
    for (const list of candidates.values()) for (const [id, on] of this.#choose(list, now)) desired.set(id, on);
    const changes: { id: string; forwarded: boolean }[] = [];
    for (const [id, forwarded] of desired) {
      const entry = this.#entries.get(id)!;
      if (entry.forwarded === forwarded) continue;
      entry.forwarded = forwarded;
      if (forwarded) entry.forwardedSince = now;
      changes.push({ id, forwarded });
    }
    return changes;
  }

  /** The forwarded microphones of one group's open, unpinned ones. */
  #choose(list: Entry[], now: number): Map<string, boolean> {
    const result = new Map(list.map((e) => [e.id, true]));
    if (list.length <= this.#limit) return result;
    const score = (e: Entry) => Math.max(SILENT_DBOV, ...e.levels.map((l) => l.dbov));
    // Strongest first; among equals the one forwarded (then: arrived) first keeps its place.
    const stronger = (a: Entry, b: Entry) => score(b) - score(a) || Number(b.forwarded) - Number(a.forwarded) || a.order - b.order;
    const kept = list.filter((e) => e.forwarded).sort(stronger);
    // More forwarded than the limit (it was just reached, or lowered): drop the weakest.
    kept.length = Math.min(kept.length, this.#limit);
    const waiting = list.filter((e) => !kept.includes(e)).sort(stronger);
    // Free places go to the loudest waiting, without a margin: nobody is displaced.
    while (kept.length < this.#limit && waiting.length > 0) kept.push(waiting.shift()!);
    // A waiting voice displaces the weakest forwarded one only when clearly louder, and not before
    // that one has had its minimum time: this is the hysteresis that keeps the set from flapping.
    for (;;) {
      const challenger = waiting[0];
      const weakest = [...kept].sort(stronger).at(-1);
      if (!challenger || !weakest) break;
      const settled = !weakest.forwarded || now - weakest.forwardedSince >= this.#tuning.minForwardMs;
      if (!settled || score(challenger) <= score(weakest) + this.#tuning.marginDb) break;
      kept.splice(kept.indexOf(weakest), 1, challenger);
      waiting.shift();
      waiting.push(weakest);
      waiting.sort(stronger);
    }
    for (const e of list) result.set(e.id, kept.includes(e));
    return result;
  }
}
