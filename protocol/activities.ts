// Polls and breakout rooms on the wire: the shapes shared by requests and notifications. Every
// string is bounded and has no control characters (it ends up on other people's screens and in CSV).
import { Type, type Static } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });

/** Most choices a poll may offer. */
export const MAX_POLL_OPTIONS = 10;
/** Most breakout rooms at once. */
export const MAX_BREAKOUT_ROOMS = 50;

export const PollKind = Type.Union([Type.Literal('single'), Type.Literal('multiple'), Type.Literal('yesno'), Type.Literal('text')]);
export const PollQuestion = Text(500);
export const PollOption = Text(200);
export const PollText = Text(500);

/** A poll as participants see it before answering. */
export const PollInfo = Type.Object({
  id: Id,
  question: PollQuestion,
  kind: PollKind,
  /** The choices (yes/no polls: "Yes", "No"; free-text polls: none). */
  options: Type.Array(PollOption, { maxItems: MAX_POLL_OPTIONS }),
  /** False (the default): answers are stored without names. True: the instructor sees who answered what. */
  named: Type.Boolean(),
  open: Type.Boolean(),
  /** When it closes by itself, ms since the epoch (server clock); null: when the instructor closes it. */
  closesAt: Type.Union([Type.Integer(), Type.Null()]),
});

/** Results so far. `responses` (who answered what) only reaches `poll` holders, and only for named polls. */
export const PollResults = Type.Object({
  pollId: Id,
  open: Type.Boolean(),
  shared: Type.Boolean(),
  answered: Type.Integer({ minimum: 0 }),
  /** Votes per option, in option order (empty for free text). */
  counts: Type.Array(Type.Integer({ minimum: 0 })),
  /** Free-text answers, sorted (so their order says nothing about who answered when). */
  texts: Type.Array(PollText),
  responses: Type.Optional(Type.Array(Type.Object({ displayName: Type.String(), answer: Type.String() }))),
});

/** `main` is the whole class; breakout rooms are `b1`, `b2`, ... */
export const GroupId = Type.String({ minLength: 1, maxLength: 8, pattern: '^(main|b[1-9][0-9]?)$' });

/** Where this participant is, and the breakout rooms running. Sent on every change. */
export const BreakoutState = Type.Object({
  active: Type.Boolean(),
  /** The group this participant is in now. */
  group: GroupId,
  /** When everyone is brought back by itself, ms since the epoch (server clock); null: no timer. */
  endsAt: Type.Union([Type.Integer(), Type.Null()]),
  groups: Type.Array(Type.Object({ id: GroupId, name: Type.String(), peerIds: Type.Array(Id) })),
});

export const BreakoutMessage = Type.Object({
  from: Type.Object({ id: Id, displayName: Type.String() }),
  text: Text(1000),
  /** ms since the epoch, server clock. */
  time: Type.Integer(),
});

export type PollKind = Static<typeof PollKind>;
export type PollInfo = Static<typeof PollInfo>;
export type PollResults = Static<typeof PollResults>;
export type GroupId = Static<typeof GroupId>;
export type BreakoutState = Static<typeof BreakoutState>;
export type BreakoutMessage = Static<typeof BreakoutMessage>;
