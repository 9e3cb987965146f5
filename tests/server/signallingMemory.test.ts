// What routes/signalling.ts does to keep idle connections small, pinned against the real
// @fastify/websocket and ws: an open connection does not keep its upgrade request alive, the
// sign-in cookie still reaches the join, and a broken frame still closes only that connection.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';

// A full GC on demand, without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let lectern: TestLectern;

beforeAll(async () => {
  lectern = await startLectern({ auth: { guests: { enabled: false } } });
});
afterAll(async () => {
  await lectern.close();
});

async function open(headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = new WebSocket(lectern.wsUrl, { headers });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

/** One request on a raw socket (SignallingClient cannot send upgrade headers); its response frame. */
async function request(socket: WebSocket, id: number, method: string, data: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const frame = JSON.parse(raw.toString()) as Record<string, unknown>;
      if (frame.kind !== 'response' || frame.id !== id) return;
      socket.off('message', onMessage);
      resolve(frame);
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ kind: 'request', id, method, data }));
  });
}

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
  }
  return ref.deref() === undefined;
}

describe('an open signalling connection', () => {
  it('does not keep its upgrade request alive, yet joins with the sign-in cookie it carried', async () => {
    const cookie = await lectern.authenticator.sessions.sealSession({ subject: 'ada', role: 'instructor', room: '*', via: 'oidc', displayName: 'Ada' });
    let upgrade: WeakRef<IncomingMessage> | undefined;
    const onUpgrade = (request: IncomingMessage) => {
      upgrade = new WeakRef(request);
    };
    lectern.app.server.prependListener('upgrade', onUpgrade);
    const socket = await open({ cookie: `lectern_session=${cookie}` });
    lectern.app.server.off('upgrade', onUpgrade);
    try {
      // Guests are off here: only the cookie can make this an instructor.
      expect(await request(socket, 1, 'join', { room: 'memory', displayName: 'typed name' })).toMatchObject({ ok: true, data: { role: 'instructor' } });
      expect(upgrade).toBeDefined();
      expect(await collected(upgrade!)).toBe(true);
      // Still a working connection after the request is gone.
      expect(await request(socket, 2, 'leave', {})).toMatchObject({ ok: true });
    } finally {
      socket.close();
    }
  });

  it('is closed, and the server carries on, when a frame exceeds the WebSocket payload cap', async () => {
    const socket = await open();
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    // Above ws's maxPayload (app.ts): ws emits 'error' on the server socket. With no 'error'
    // listener left that would throw; the session's listener logs it and drops the connection.
    socket.send(Buffer.alloc(2 * 1024 * 1024, 0x20).toString());
    expect([1006, 1009]).toContain(await closed);
    const other = await open();
    try {
      expect(await request(other, 1, 'join', { room: 'memory', displayName: 'x' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    } finally {
      other.close();
    }
  });
});
