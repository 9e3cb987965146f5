// Polls over real signalling on a real server: answer once, anonymous by default (no identity in
// results, export or audit log), named polls name, time limits, permissions, strict schemas, and a
// CSV export that spreadsheets cannot run as formulas.
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { AUDIT_FILES, verifyLog } from '../../audit/log/index.js';
import type { PollInfo, PollResults } from '../../protocol/index.js';

let lectern: TestLectern;
const clients: SignallingClient[] = [];

beforeAll(async () => {
  lectern = await startLectern({ auth: { tokenSecret: 'polls-test-secret-at-least-32-bytes!!' } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await lectern.close();
});

/** Join with a token, set up transports and say ready. */
async function enter(room: string, name: string, role: 'instructor' | 'student', subject = `${name.toLowerCase()}@uni.example`) {
  const client = await SignallingClient.connect(lectern.wsUrl);
  clients.push(client);
  const token = await lectern.authenticator.issueRoomToken({ room, role, subject });
  const joined = await client.ok('join', { room, displayName: name, token });
  await client.ok('createTransport', { direction: 'send' });
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  return { client, peerId: joined.peerId as string, subject };
}

const pollOf = (reply: Record<string, unknown>) => reply.poll as PollInfo;

describe('answering', () => {
  it('a student answers once: a second answer, even after rejoining, is refused', async () => {
    const teacher = await enter('poll-once', 'Teacher', 'instructor');
    const ann = await enter('poll-once', 'Ann', 'student');
    const poll = pollOf(await teacher.client.ok('openPoll', { question: 'Is light a wave?', kind: 'yesno' }));
    expect(poll).toMatchObject({ kind: 'yesno', options: ['Yes', 'No'], named: false, open: true, closesAt: null });
    const opened = await ann.client.notification('pollOpened');
    expect(opened.poll).toEqual(poll);

    await ann.client.ok('answerPoll', { pollId: poll.id, choices: [0] });
    const results = await teacher.client.notification('pollResults', (r) => r.answered === 1);
    expect(results.counts).toEqual([1, 0]);
    expect(await ann.client.send('answerPoll', { pollId: poll.id, choices: [1] })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('already answered') },
    });

    // Same sign-in, new connection: still the same person, still no second vote.
    ann.client.close();
    const again = await enter('poll-once', 'Ann', 'student', ann.subject);
    await again.client.notification('pollOpened', (d) => d.poll.id === poll.id);
    expect(await again.client.send('answerPoll', { pollId: poll.id, choices: [1] })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    const final = (await teacher.client.ok('closePoll', { pollId: poll.id })) as PollResults;
    expect(final).toMatchObject({ open: false, answered: 1, counts: [1, 0] });
    // Results were live to the instructor only: the student was never sent any before sharing.
    expect(again.client.received('pollResults')).toHaveLength(0);
  });

  it('checks an answer against the poll: one choice for single choice, text for free text, no such option', async () => {
    const teacher = await enter('poll-shape', 'Teacher', 'instructor');
    const ann = await enter('poll-shape', 'Ann', 'student');
    const single = pollOf(await teacher.client.ok('openPoll', { question: 'Pick one', kind: 'single', options: ['A', 'B', 'C'] }));
    expect(await ann.client.send('answerPoll', { pollId: single.id, choices: [0, 1] })).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    expect(await ann.client.send('answerPoll', { pollId: single.id, choices: [3] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('no such option') },
    });
    expect(await ann.client.send('answerPoll', { pollId: single.id, text: 'A' })).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    expect(await teacher.client.send('openPoll', { question: 'Another', kind: 'yesno' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    await teacher.client.ok('closePoll', { pollId: single.id });
    expect(await ann.client.send('answerPoll', { pollId: single.id, choices: [0] })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('closed') },
    });
    const multi = pollOf(await teacher.client.ok('openPoll', { question: 'Pick any', kind: 'multiple', options: ['A', 'B', 'C'] }));
    await ann.client.ok('answerPoll', { pollId: multi.id, choices: [2, 0] });
    expect(await teacher.client.notification('pollResults', (r) => r.pollId === multi.id && r.answered === 1)).toMatchObject({ counts: [1, 0, 1] });
  });
});

describe('anonymous and named polls', () => {
  it('an anonymous poll keeps no identity: not in results, not in the CSV, not in the audit log', async () => {
    const teacher = await enter('poll-anon', 'Teacher', 'instructor');
    const ann = await enter('poll-anon', 'Annabel', 'student');
    const ben = await enter('poll-anon', 'Benedict', 'student');
    const poll = pollOf(await teacher.client.ok('openPoll', { question: 'What was unclear?', kind: 'text' }));
    expect(poll.named).toBe(false);
    await ann.client.ok('answerPoll', { pollId: poll.id, text: 'the proof of lemma 2' });
    await ben.client.ok('answerPoll', { pollId: poll.id, text: '=HYPERLINK("http://evil.example","click")' });
    const results = await teacher.client.notification('pollResults', (r) => r.answered === 2);
    expect(results.responses).toBeUndefined();
    expect(results.texts).toEqual(['=HYPERLINK("http://evil.example","click")', 'the proof of lemma 2']);
    for (const frame of teacher.client.received('pollResults')) expect(JSON.stringify(frame)).not.toMatch(/Annabel|Benedict|@uni\.example/);

    const { csv, filename } = (await teacher.client.ok('exportPoll', { pollId: poll.id })) as { csv: string; filename: string };
    expect(filename).toMatch(/^poll-[0-9a-f]{8}\.csv$/);
    expect(csv).not.toMatch(/Annabel|Benedict|uni\.example|name/);
    expect(csv).toContain('anonymous,yes\r\n');
    // Formula injection: the cell is quoted (it has commas and quotes) and starts with an apostrophe.
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"\r\n`);
    expect(csv).toContain('the proof of lemma 2\r\n');

    const file = joinPath(lectern.config.audit.dir, AUDIT_FILES.log);
    await expect.poll(() => readFileSync(file, 'utf8').includes('"poll.exported"'), { timeout: 5000 }).toBe(true);
    const records = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; subject: string; details: Record<string, unknown> })
      .filter((r) => r.subject === 'room:poll-anon' && r.action.startsWith('poll.'));
    expect(records.map((r) => r.action)).toEqual(['poll.opened', 'poll.exported']);
    expect(records[1]?.details).toMatchObject({ pollId: poll.id, named: false, answered: 2, actorRole: 'instructor' });
    expect(readFileSync(file, 'utf8')).not.toMatch(/Annabel|Benedict|lemma/);
    expect(await verifyLog(file, lectern.auditLog.publicKeyPem)).toMatchObject({ ok: true });
  });

  it('a named poll tells students before they vote; its export names who answered what; shared results never do', async () => {
    const teacher = await enter('poll-named', 'Teacher', 'instructor');
    const ann = await enter('poll-named', 'Ann', 'student');
    const ben = await enter('poll-named', 'Ben', 'student');
    const poll = pollOf(await teacher.client.ok('openPoll', { question: 'Who has read chapter 3?', kind: 'single', options: ['Read it', 'Not yet'], named: true }));
    expect((await ann.client.notification('pollOpened')).poll.named).toBe(true);
    await ann.client.ok('answerPoll', { pollId: poll.id, choices: [0] });
    await ben.client.ok('answerPoll', { pollId: poll.id, choices: [1] });
    const live = await teacher.client.notification('pollResults', (r) => r.answered === 2);
    expect(live.responses).toEqual([
      { displayName: 'Ann', answer: 'Read it' },
      { displayName: 'Ben', answer: 'Not yet' },
    ]);
    await teacher.client.ok('sharePollResults', { pollId: poll.id });
    const shared = await ann.client.notification('pollResults');
    expect(shared).toMatchObject({ shared: true, answered: 2, counts: [1, 1] });
    expect(shared.responses).toBeUndefined();
    const { csv } = (await teacher.client.ok('exportPoll', { pollId: poll.id })) as { csv: string };
    expect(csv).toContain('anonymous,no\r\n');
    expect(csv).toContain('option,votes\r\nRead it,1\r\nNot yet,1\r\n');
    expect(csv).toContain('name,answer\r\nAnn,Read it\r\nBen,Not yet\r\n');
  });
});

describe('time limit', () => {
  it('closes the poll by itself when time is up', async () => {
    const teacher = await enter('poll-timer', 'Teacher', 'instructor');
    const ann = await enter('poll-timer', 'Ann', 'student');
    const before = Date.now();
    const poll = pollOf(await teacher.client.ok('openPoll', { question: 'Quick one', kind: 'yesno', timeLimitSeconds: 1 }));
    expect(poll.closesAt).toBeGreaterThanOrEqual(before + 1000);
    const closed = await ann.client.notification('pollClosed', (d) => d.pollId === poll.id);
    expect(closed).toEqual({ pollId: poll.id });
    expect(Date.now() - before).toBeGreaterThanOrEqual(950);
    expect(await teacher.client.notification('pollResults', (r) => !r.open)).toMatchObject({ pollId: poll.id, answered: 0 });
    expect(await ann.client.send('answerPoll', { pollId: poll.id, choices: [0] })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });
});

describe('permissions and schemas', () => {
  it('a student cannot open, close, share or export a poll', async () => {
    const teacher = await enter('poll-perm', 'Teacher', 'instructor');
    const ann = await enter('poll-perm', 'Ann', 'student');
    expect(await ann.client.send('openPoll', { question: 'Mine?', kind: 'yesno' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining('needs poll') },
    });
    const poll = pollOf(await teacher.client.ok('openPoll', { question: 'Theirs', kind: 'yesno' }));
    for (const method of ['closePoll', 'sharePollResults', 'exportPoll'] as const) {
      expect(await ann.client.send(method, { pollId: poll.id })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
  });

  it('refuses unknown keys, bad options and unknown polls, naming the field', async () => {
    const teacher = await enter('poll-schema', 'Teacher', 'instructor');
    expect(await teacher.client.sendUnchecked('openPoll', { question: 'q', kind: 'yesno', anonymous: false })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('anonymous') },
    });
    expect(await teacher.client.sendUnchecked('openPoll', { question: 'q', kind: 'single', options: ['only one'] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('options') },
    });
    expect(await teacher.client.sendUnchecked('openPoll', { question: 'q', kind: 'yesno', options: ['Yes', 'No', 'Maybe'] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('options') },
    });
    expect(await teacher.client.sendUnchecked('openPoll', { question: 'q', kind: 'single', options: ['Same', 'same'] })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data' },
    });
    expect(await teacher.client.sendUnchecked('answerPoll', { pollId: 'x', choices: [0], who: 'me' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_data', message: expect.stringContaining('who') },
    });
    expect(await teacher.client.send('exportPoll', { pollId: 'no-such-poll' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});
