// Rooms cannot be leaked or hoarded: every room closes within `emptyRoomTimeoutSeconds` of its
// last participant, whatever path created it, and the server caps how many rooms exist and how
// fast one client may open new ones (issue 12, defects 1-3).
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { startLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';

const TIMEOUT_S = 1;
// The timer, plus a margin for a loaded 2-core machine.
const CLOSE_WITHIN_MS = TIMEOUT_S * 1000 + 3000;
const GRACE_S = 1;

const server = lecternForFile({
  auth: { tokenSecret: 'room-limits-test-secret-at-least-32-bytes' },
  // A dropped connection is held this long for a resume; the participant has left after it.
  signalling: { resumeGraceSeconds: GRACE_S },
  rooms: { emptyRoomTimeoutSeconds: TIMEOUT_S, maxRooms: 60, maxCreatedPerConnectionPerMinute: 3, maxCreatedPerAddressPerMinute: 1000 },
});
const connect = (): Promise<SignallingClient> => server.connect();

async function health(): Promise<{ rooms: number; peers: number }> {
  return (await (await fetch(`${server.lectern.url}/healthz`)).json()) as { rooms: number; peers: number };
}

/** `count` new connections to `wsUrl`, each joining its own new room `<prefix>-<i>`: each reply's 'ok' or error code. */
async function openRooms(wsUrl: string, prefix: string, count: number): Promise<string[]> {
  const codes = [];
  for (let i = 0; i < count; i++) {
    const client = await server.connect(wsUrl);
    const reply = await client.send('join', { room: `${prefix}-${i}`, displayName: `Guest ${i}` });
    codes.push(reply.ok ? 'ok' : reply.error.code);
  }
  return codes;
}

/** Routers alive in the media worker: what a leaked room really costs. */
async function routers(): Promise<number> {
  let n = 0;
  for (const { worker } of server.lectern.sfu.pool.workers) n += (await worker.dump()).routerIds.length;
  return n;
}

describe('no room outlives its last participant', () => {
  it('a join abandoned while its room was being created leaves no room behind', async () => {
    // The socket goes away right after the join frame: the room is created for nobody.
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const socket = new WebSocket(server.lectern.wsUrl);
        await new Promise((resolve) => socket.once('open', resolve));
        socket.send(JSON.stringify({ kind: 'request', id: 1, method: 'join', data: { room: `abandoned-${i}`, displayName: 'Gone' } }));
        socket.terminate();
      }),
    );
    await expect.poll(async () => (await health()).rooms, { timeout: CLOSE_WITHIN_MS, interval: 100 }).toBe(0);
    expect(await routers()).toBe(0);
  });

  it('a refused join does not keep an emptied room open', async () => {
    const teacher = await connect();
    const token = await server.lectern.authenticator.issueRoomToken({ room: 'locked-101', role: 'instructor', subject: 't@uni.example' });
    await teacher.ok('join', { room: 'locked-101', displayName: 'Teacher', token });
    await teacher.ok('setRoomPolicy', { locked: true });
    teacher.close();
    await expect.poll(async () => (await health()).peers, { timeout: 5000 }).toBe(0);
    // Students keep knocking on the locked, empty room: each is refused, none may keep it open.
    for (let i = 0; i < 5; i++) {
      const student = await connect();
      expect(await student.send('join', { room: 'locked-101', displayName: `Student ${i}` })).toMatchObject({ ok: false, error: { code: 'locked' } });
      student.close();
    }
    await expect.poll(async () => (await health()).rooms, { timeout: CLOSE_WITHIN_MS, interval: 100 }).toBe(0);
  });

  it('a room someone is in stays open past the timeout, and closes after they leave', async () => {
    const ada = await connect();
    await ada.ok('join', { room: 'occupied', displayName: 'Ada' });
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_S * 1000 + 500));
    expect((await health()).rooms).toBe(1);
    ada.close();
    await expect.poll(async () => (await health()).rooms, { timeout: GRACE_S * 1000 + CLOSE_WITHIN_MS, interval: 100 }).toBe(0);
  });
});

describe('limits on opening rooms', () => {
  it('one connection may open only so many new rooms per minute, with a clear error', async () => {
    const guest = await connect();
    for (let i = 0; i < 3; i++) {
      await guest.ok('join', { room: `hoard-${i}`, displayName: 'Hoarder' });
      await guest.ok('leave', {});
    }
    const refused = await guest.send('join', { room: 'hoard-3', displayName: 'Hoarder' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(refused.ok ? '' : refused.error.message).toMatch(/new classes/);
    // Joining a class that is already open is not creating one: still allowed.
    const host = await connect();
    await host.ok('join', { room: 'open-class', displayName: 'Host' });
    expect(await guest.send('join', { room: 'open-class', displayName: 'Hoarder' })).toMatchObject({ ok: true });
  });

  it('a client address may open only so many new rooms per minute', async () => {
    const strict = await startLectern({ rooms: { maxCreatedPerAddressPerMinute: 4 } });
    try {
      expect(await openRooms(strict.wsUrl, 'address', 6)).toEqual(['ok', 'ok', 'ok', 'ok', 'rate_limited', 'rate_limited']);
    } finally {
      await strict.close();
    }
  });

  it('the server opens at most maxRooms rooms and says so', async () => {
    const small = await startLectern({ rooms: { maxRooms: 2 } });
    try {
      expect(await openRooms(small.wsUrl, 'cap', 3)).toEqual(['ok', 'ok', 'too_many_rooms']);
      // An open room can still be joined at the cap.
      const late = await server.connect(small.wsUrl);
      expect(await late.send('join', { room: 'cap-0', displayName: 'Late' })).toMatchObject({ ok: true });
    } finally {
      await small.close();
    }
  });
});
