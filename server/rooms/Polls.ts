// Polls of one class, in memory only: gone when the room closes, unless an instructor exports them.
// Anonymous by default: an anonymous poll keeps tallies (and free-text answers) with no trace of
// who gave them. A named poll, which students are told about before voting, keeps who answered what.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { PollInfo, PollResults, RequestData } from '../../protocol/index.js';
import type { Peer } from './Peer.js';
import type { ClassEvent } from './ClassRecord.js';
import { SignallingError } from '../signalling/SignallingError.js';
import { toCsv } from './csv.js';

/** Closed polls kept for sharing and export; older ones are forgotten. */
const KEPT_POLLS = 20;
const YES_NO = ['Yes', 'No'];

/** What Polls needs from its room. */
export interface PollHost {
  /** Everyone in the class (not waiting in the lobby). */
  admitted(): Peer[];
  record(event: Omit<ClassEvent, 'room'>): void;
}

interface Poll {
  info: PollInfo;
  /**
   * Who already answered, as HMAC-SHA256(voterKey, identity). This is not a name: the key is random
   * per poll, lives only in this object and is never logged, sent or exported, so the hashes cannot
   * be reversed or matched across polls; and nothing links a hash to an answer (answers go into
   * counts/texts, in no order tied to voters). All the set can say is "this identity has answered".
   */
  voters: Set<string>;
  voterKey: Buffer;
  counts: number[];
  texts: string[];
  /** Named polls only: who answered what, for the instructor. */
  responses: { displayName: string; answer: string }[] | undefined;
  shared: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** The polls of one room. */
export class Polls {
  readonly #host: PollHost;
  readonly #polls = new Map<string, Poll>();

  constructor(host: PollHost) {
    this.#host = host;
  }

  /** Ask a question; one poll is open at a time. */
  open(by: Peer, data: RequestData<'openPoll'>, now = Date.now()): PollInfo {
    if ([...this.#polls.values()].some((p) => p.info.open)) throw new SignallingError('conflict', 'close the open poll first');
    const options = pollOptions(data.kind, data.options);
    const id = randomUUID();
    const info: PollInfo = {
      id,
      question: data.question,
      kind: data.kind,
      options,
      named: data.named ?? false,
      open: true,
      closesAt: data.timeLimitSeconds ? now + data.timeLimitSeconds * 1000 : null,
    };
    const poll: Poll = {
      info,
      voters: new Set(),
      voterKey: randomBytes(32),
      counts: options.map(() => 0),
      texts: [],
      responses: info.named ? [] : undefined,
      shared: false,
      timer: undefined,
    };
    if (data.timeLimitSeconds) {
      poll.timer = setTimeout(() => this.#close(poll, 'time limit'), data.timeLimitSeconds * 1000);
      poll.timer.unref();
    }
    this.#polls.set(id, poll);
    this.#forgetOld();
    for (const peer of this.#host.admitted()) peer.notify('pollOpened', { poll: { ...info } });
    this.#publish(poll);
    this.#host.record({
      action: 'poll.opened',
      actor: by.identity.subject,
      actorRole: by.role,
      details: { pollId: id, kind: info.kind, named: info.named, options: options.length, timeLimitSeconds: data.timeLimitSeconds ?? 0 },
    });
    return { ...info };
  }

  /** Record one participant's answer; a second answer from the same person is refused. */
  answer(peer: Peer, data: RequestData<'answerPoll'>): void {
    const poll = this.#poll(data.pollId);
    if (!poll.info.open) throw new SignallingError('conflict', 'this poll is closed');
    const answer = checkedAnswer(poll.info, data);
    const voter = createHmac('sha256', poll.voterKey).update(voterIdentity(peer)).digest('base64url');
    if (poll.voters.has(voter)) throw new SignallingError('conflict', 'you have already answered this poll');
    poll.voters.add(voter);
    if (typeof answer === 'string') poll.texts.push(answer);
    else for (const index of answer) poll.counts[index] = (poll.counts[index] ?? 0) + 1;
    const said = typeof answer === 'string' ? answer : answer.map((i) => poll.info.options[i]).join('; ');
    poll.responses?.push({ displayName: peer.displayName, answer: said });
    this.#publish(poll);
  }

  /** Stop taking answers; returns the results as the instructor sees them. */
  close(by: Peer, pollId: string): PollResults {
    const poll = this.#poll(pollId);
    if (!poll.info.open) throw new SignallingError('conflict', 'this poll is already closed');
    this.#close(poll, 'instructor', by);
    return this.#results(poll, true);
  }

  /** Show results (never names) to everyone, now and on every change. */
  share(by: Peer, pollId: string): void {
    const poll = this.#poll(pollId);
    poll.shared = true;
    this.#publish(poll);
    this.#host.record({ action: 'poll.shared', actor: by.identity.subject, actorRole: by.role, details: { pollId } });
  }

  /** The poll as CSV: names only for a named poll. Recorded in the audit log. */
  export(by: Peer, pollId: string): { filename: string; csv: string } {
    const poll = this.#poll(pollId);
    const { info } = poll;
    const rows: (string | number)[][] = [
      ['question', info.question],
      ['kind', info.kind],
      ['anonymous', info.named ? 'no' : 'yes'],
      ['status', info.open ? 'open' : 'closed'],
      ['answered', poll.voters.size],
      [],
    ];
    if (info.kind !== 'text') {
      rows.push(['option', 'votes'], ...info.options.map((option, i) => [option, poll.counts[i] ?? 0]));
    }
    if (poll.responses) {
      rows.push([], ['name', 'answer'], ...poll.responses.map((r) => [r.displayName, r.answer]));
    } else if (info.kind === 'text') {
      rows.push(['answer'], ...sorted(poll.texts).map((t) => [t]));
    }
    this.#host.record({
      action: 'poll.exported',
      actor: by.identity.subject,
      actorRole: by.role,
      details: { pollId, named: info.named, answered: poll.voters.size },
    });
    return { filename: `poll-${pollId.slice(0, 8)}.csv`, csv: toCsv(rows) };
  }

  /** Bring a newcomer up to date: the open poll, and results they may see. */
  greet(peer: Peer): void {
    for (const poll of this.#polls.values()) {
      if (poll.info.open) peer.notify('pollOpened', { poll: { ...poll.info } });
      if (peer.can('poll') || poll.shared) peer.notify('pollResults', this.#results(poll, peer.can('poll')));
    }
  }

  /** Stop every timer (the room is closing). */
  stop(): void {
    for (const poll of this.#polls.values()) clearTimeout(poll.timer);
    this.#polls.clear();
  }

  #close(poll: Poll, reason: 'instructor' | 'time limit', by?: Peer): void {
    if (!poll.info.open) return;
    poll.info.open = false;
    clearTimeout(poll.timer);
    poll.timer = undefined;
    for (const peer of this.#host.admitted()) peer.notify('pollClosed', { pollId: poll.info.id });
    this.#publish(poll);
    this.#host.record({
      action: 'poll.closed',
      actor: by ? by.identity.subject : 'server',
      ...(by ? { actorRole: by.role } : {}),
      details: { pollId: poll.info.id, reason, answered: poll.voters.size },
    });
  }

  /** Results to those who may see them: live to `poll` holders, to everyone once shared. */
  #publish(poll: Poll): void {
    const full = this.#results(poll, true);
    const shared = poll.shared ? this.#results(poll, false) : undefined;
    for (const peer of this.#host.admitted()) {
      if (peer.can('poll')) peer.notify('pollResults', full);
      else if (shared) peer.notify('pollResults', shared);
    }
  }

  #results(poll: Poll, forInstructor: boolean): PollResults {
    return {
      pollId: poll.info.id,
      open: poll.info.open,
      shared: poll.shared,
      answered: poll.voters.size,
      counts: [...poll.counts],
      texts: sorted(poll.texts),
      ...(forInstructor && poll.responses ? { responses: poll.responses.map((r) => ({ ...r })) } : {}),
    };
  }

  #poll(id: string): Poll {
    const poll = this.#polls.get(id);
    if (!poll) throw new SignallingError('not_found', `no poll ${id} in this room`);
    return poll;
  }

  #forgetOld(): void {
    for (const [id, poll] of this.#polls) {
      if (this.#polls.size <= KEPT_POLLS) break;
      if (!poll.info.open) this.#polls.delete(id);
    }
  }
}

/** The choices a poll offers, checked against its kind. */
function pollOptions(kind: PollInfo['kind'], options: string[] | undefined): string[] {
  if (kind === 'yesno' || kind === 'text') {
    if (options && options.length > 0) throw new SignallingError('invalid_data', `openPoll: options: a ${kind} poll takes no options`);
    return kind === 'yesno' ? [...YES_NO] : [];
  }
  if (!options || options.length < 2) throw new SignallingError('invalid_data', `openPoll: options: a ${kind} choice poll needs at least 2 options`);
  if (new Set(options.map((o) => o.trim().toLowerCase())).size !== options.length) {
    throw new SignallingError('invalid_data', 'openPoll: options: options must differ');
  }
  return [...options];
}

/** Option indexes or a text, matching the poll's kind; anything else is refused naming the field. */
function checkedAnswer(info: PollInfo, data: RequestData<'answerPoll'>): number[] | string {
  if (info.kind === 'text') {
    if (data.choices !== undefined) throw new SignallingError('invalid_data', 'answerPoll: choices: this poll takes a text answer');
    if (data.text === undefined) throw new SignallingError('invalid_data', 'answerPoll: text: required for a free-text poll');
    return data.text;
  }
  if (data.text !== undefined) throw new SignallingError('invalid_data', 'answerPoll: text: this poll takes choices');
  if (!data.choices) throw new SignallingError('invalid_data', 'answerPoll: choices: required for a choice poll');
  if (info.kind !== 'multiple' && data.choices.length !== 1) throw new SignallingError('invalid_data', 'answerPoll: choices: pick exactly one');
  if (data.choices.some((i) => i >= info.options.length)) throw new SignallingError('invalid_data', 'answerPoll: choices: no such option');
  return [...data.choices].sort((a, b) => a - b);
}

/**
 * Whom "answer once" is about. A sign-in or a personal link names one person across reconnects,
 * so leaving and rejoining does not give a second vote. A link shared by a whole class (or a guest)
 * does not: using it would let only one of them answer, so those count once per connection.
 */
function voterIdentity(peer: Peer): string {
  return peer.identity.personal ? `subject:${peer.identity.subject}` : `peer:${peer.id}`;
}

function sorted(texts: string[]): string[] {
  return [...texts].sort((a, b) => a.localeCompare(b));
}
