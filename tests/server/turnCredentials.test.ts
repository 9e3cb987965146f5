// Per-participant TURN credentials through signalling on a real server: every join mints its own
// `<expiry>:<peer>` credential with the configured lifetime, and renewIce swaps it for a fresh one.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { SignallingClient } from '../helpers/SignallingClient.js';

const SECRET = 'Zr4pT8vW1yB3nM6qS9uX2aD5fH7jK0cE';
const TTL = 5400;
const TURN_URLS = ['turn:turn.example.edu:3478?transport=udp', 'turns:turn.example.edu:5349?transport=tcp'];

const server = lecternForFile({
  ice: { relayOnly: true, servers: [{ urls: ['stun:turn.example.edu:3478'] }], turn: { urls: TURN_URLS, secret: SECRET, credentialTtlSeconds: TTL } },
});
const connect = (): Promise<SignallingClient> => server.connect();

type Ice = { urls: string[]; username?: string; credential?: string };

/** The TURN entry of a reply, checked against coturn's scheme for this peer. */
function expectTurnCredential(reply: Record<string, unknown>, peerId: string, sentAt: number, repliedAt: number): string {
  const servers = reply.iceServers as Ice[];
  expect(servers[0]).toEqual({ urls: ['stun:turn.example.edu:3478'] });
  const turn = servers[1]!;
  expect(turn.urls).toEqual(TURN_URLS);
  const [expiry, peer] = turn.username!.split(':');
  expect(peer).toBe(peerId);
  expect(Number(expiry)).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000) + TTL);
  expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(repliedAt / 1000) + TTL);
  expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username!).digest('base64'));
  expect(reply.iceServersTtlSeconds).toBe(TTL);
  expect(reply.iceTransportPolicy).toBe('relay');
  return turn.username!;
}

describe('TURN credentials per participant', () => {
  it('two joins get different usernames, each <expiry>:<own peer id> with the configured lifetime', async () => {
    const sentAt = Date.now();
    const [ada, bob] = [await connect(), await connect()];
    const [a, b] = await Promise.all([ada.ok('join', { room: 'turn-1', displayName: 'Ada' }), bob.ok('join', { room: 'turn-1', displayName: 'Bob' })]);
    const repliedAt = Date.now();
    const adaUser = expectTurnCredential(a, a.peerId as string, sentAt, repliedAt);
    const bobUser = expectTurnCredential(b, b.peerId as string, sentAt, repliedAt);
    expect(adaUser).not.toBe(bobUser);
    // The shared secret itself never reaches a browser.
    expect(JSON.stringify([a, b])).not.toContain(SECRET);
  });

  it('renewIce hands a joined participant a fresh credential that expires later', async () => {
    const client = await connect();
    const joined = await client.ok('join', { room: 'turn-2', displayName: 'Cleo' });
    const peerId = joined.peerId as string;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the expiry has whole seconds
    const sentAt = Date.now();
    const renewed = await client.ok('renewIce', {});
    const username = expectTurnCredential(renewed, peerId, sentAt, Date.now());
    expect(Number(username.split(':')[0])).toBeGreaterThan(Number((joined.iceServers as Ice[])[1]!.username!.split(':')[0]));
  });

  it('renewIce works while waiting in the lobby and is refused before joining or with extra fields', async () => {
    const client = await connect();
    expect(await client.send('renewIce', {})).toMatchObject({ ok: false, error: { code: 'not_joined' } });
    const instructor = await connect();
    const token = await server.lectern.authenticator.issueRoomToken({ room: 'turn-3', role: 'instructor', subject: 'teacher-turn-3' });
    await instructor.ok('join', { room: 'turn-3', displayName: 'Teacher', token });
    await instructor.ok('setRoomPolicy', { lobby: true });
    const waiting = await connect();
    const joined = await waiting.ok('join', { room: 'turn-3', displayName: 'Dan' });
    expect(joined.admitted).toBe(false);
    expect(await waiting.sendUnchecked('renewIce', { ttl: 999999 })).toMatchObject({ ok: false, error: { code: 'invalid_data', message: expect.stringContaining('ttl') } });
    const sentAt = Date.now();
    expectTurnCredential(await waiting.ok('renewIce', {}), joined.peerId as string, sentAt, Date.now());
  });
});
