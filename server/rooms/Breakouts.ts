// Breakout rooms as groups inside one room, on one media plane (eduMEET's model): a participant
// moved to a breakout keeps their connection and transports; the room only changes which tracks
// they send to and receive from (Room.moveToGroups). This class decides who goes where and when
// everyone comes back; the room does the rewiring.
import { randomInt } from 'node:crypto';
import type { BreakoutState, RequestData } from '../../protocol/index.js';
import type { Peer } from './Peer.js';
import type { ClassEvent } from './ClassRecord.js';
import { SignallingError } from '../signalling/SignallingError.js';

/** The whole class, outside any breakout room. */
export const MAIN_GROUP = 'main';

/** What Breakouts needs from its room. */
export interface BreakoutHost {
  /** Everyone in the class (not waiting in the lobby). */
  admitted(): Peer[];
  /** Put participants in groups and rewire their media; no new connection. */
  moveToGroups(moves: ReadonlyMap<Peer, string>): Promise<void>;
  record(event: Omit<ClassEvent, 'room'>): void;
  /** Log work that failed with nobody waiting for it (the timer's return). */
  failed(error: unknown, what: string): void;
}

/** The breakout rooms of one room. */
export class Breakouts {
  readonly #host: BreakoutHost;
  readonly #warningMs: number;
  #groups: { id: string; name: string }[] = [];
  #endsAt: number | null = null;
  #timer: NodeJS.Timeout | undefined;
  #warningTimer: NodeJS.Timeout | undefined;

  /** `warningSeconds`: how long before the automatic return everyone is warned (config). */
  constructor(host: BreakoutHost, warningSeconds: number) {
    this.#host = host;
    this.#warningMs = warningSeconds * 1000;
  }

  /** Whether breakout rooms are running. */
  get active(): boolean {
    return this.#groups.length > 0;
  }

  /** Whether `group` is the main room or a running breakout room. */
  has(group: string): boolean {
    return group === MAIN_GROUP || this.#groups.some((g) => g.id === group);
  }

  /**
   * Split the class. Instructors (those who may run breakouts) stay in the main room. Random: the
   * others, shuffled, round robin. By hand: as listed; anyone not listed stays in the main room.
   */
  async start(by: Peer, data: RequestData<'startBreakouts'>, now = Date.now()): Promise<BreakoutState> {
    if (this.active) throw new SignallingError('conflict', 'breakout rooms are already running; bring everyone back first');
    const moves = data.assignment ? this.#byHand(data.rooms, data.assignment) : this.#random(data.rooms);
    this.#groups = Array.from({ length: data.rooms }, (_, i) => ({ id: `b${i + 1}`, name: `Room ${i + 1}` }));
    if (data.durationSeconds) this.#schedule(data.durationSeconds * 1000, now);
    await this.#host.moveToGroups(new Map(moves));
    this.#announce();
    this.#host.record({
      action: 'breakout.started',
      actor: by.identity.subject,
      actorRole: by.role,
      details: { rooms: data.rooms, assignment: data.assignment ? 'manual' : 'random', moved: moves.length, durationSeconds: data.durationSeconds ?? 0 },
    });
    return this.stateFor(by);
  }

  /** Bring everyone back into the main room (an instructor, or the timer). */
  async end(by: Peer | 'timer'): Promise<void> {
    if (!this.active) throw new SignallingError('conflict', 'no breakout rooms are running');
    this.#clearTimers();
    this.#groups = [];
    this.#endsAt = null;
    const away = this.#host.admitted().filter((p) => p.group !== MAIN_GROUP);
    await this.#host.moveToGroups(new Map(away.map((peer) => [peer, MAIN_GROUP])));
    this.#announce();
    this.#host.record({
      action: 'breakout.ended',
      actor: by === 'timer' ? 'server' : by.identity.subject,
      ...(by === 'timer' ? {} : { actorRole: by.role }),
      details: { reason: by === 'timer' ? 'time up' : 'instructor', returned: away.length },
    });
  }

  /** An instructor joins a breakout room (or the main room) to see and hear it. */
  async visit(by: Peer, group: string): Promise<BreakoutState> {
    if (!this.has(group)) throw new SignallingError('not_found', `no breakout room ${group}`);
    await this.#host.moveToGroups(new Map([[by, group]]));
    this.#announce();
    return this.stateFor(by);
  }

  /** A message to every room, main and breakouts. */
  broadcast(by: Peer, text: string, now = Date.now()): void {
    const message = { from: { id: by.id, displayName: by.displayName }, text, time: now };
    for (const peer of this.#host.admitted()) peer.notify('breakoutMessage', message);
  }

  /** Where this participant is and what is running. */
  stateFor(peer: Peer): BreakoutState {
    const everyone = this.#host.admitted();
    return {
      active: this.active,
      group: peer.group,
      endsAt: this.#endsAt,
      groups: this.#groups.map((g) => ({ ...g, peerIds: everyone.filter((p) => p.group === g.id).map((p) => p.id) })),
    };
  }

  /** Tell a newcomer breakouts are running (they start in the main room). */
  greet(peer: Peer): void {
    if (this.active) peer.notify('breakoutState', this.stateFor(peer));
  }

  /** Stop the timers (the room is closing). */
  stop(): void {
    this.#clearTimers();
    this.#groups = [];
  }

  #random(rooms: number): [Peer, string][] {
    const students = this.#host.admitted().filter((p) => !p.can('breakout'));
    if (rooms > students.length) {
      throw new SignallingError('invalid_data', `startBreakouts: rooms: ${rooms} rooms for ${students.length} participants to split`);
    }
    // Fisher-Yates with the crypto RNG: who ends up with whom should not be predictable.
    for (let i = students.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [students[i], students[j]] = [students[j] as Peer, students[i] as Peer];
    }
    return students.map((peer, i) => [peer, `b${(i % rooms) + 1}`]);
  }

  #byHand(rooms: number, assignment: { peerId: string; room: number }[]): [Peer, string][] {
    const everyone = new Map(this.#host.admitted().map((p) => [p.id, p]));
    if (rooms > everyone.size) throw new SignallingError('invalid_data', `startBreakouts: rooms: ${rooms} rooms for ${everyone.size} participants`);
    const seen = new Set<string>();
    return assignment.map(({ peerId, room }, i): [Peer, string] => {
      const peer = everyone.get(peerId);
      if (!peer) throw new SignallingError('not_found', `startBreakouts: assignment/${i}/peerId: no participant ${peerId} in the class`);
      if (room > rooms) throw new SignallingError('invalid_data', `startBreakouts: assignment/${i}/room: only ${rooms} rooms`);
      if (seen.has(peerId)) throw new SignallingError('invalid_data', `startBreakouts: assignment/${i}/peerId: listed twice`);
      seen.add(peerId);
      return [peer, `b${room}`];
    });
  }

  #schedule(durationMs: number, now: number): void {
    this.#endsAt = now + durationMs;
    const lead = Math.min(this.#warningMs, durationMs);
    this.#warningTimer = setTimeout(() => {
      const secondsLeft = Math.round(lead / 1000);
      for (const peer of this.#host.admitted()) peer.notify('breakoutWarning', { secondsLeft });
    }, durationMs - lead);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.active) this.end('timer').catch((error: unknown) => this.#host.failed(error, 'automatic return from breakout rooms'));
    }, durationMs);
    // A class timer must not keep a shutting-down server alive.
    this.#warningTimer.unref();
    this.#timer.unref();
  }

  #clearTimers(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#warningTimer);
    this.#timer = undefined;
    this.#warningTimer = undefined;
  }

  #announce(): void {
    for (const peer of this.#host.admitted()) peer.notify('breakoutState', this.stateFor(peer));
  }
}
