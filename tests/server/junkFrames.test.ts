// Junk on the signalling socket costs the server almost nothing and never buys a connection more
// time: frames and bytes are budgeted before parsing, and invalid frames add up whatever valid
// frames are mixed in (issue 12, defect 4). The latency other participants see under such a flood
// is measured in the bench (bench/scenarios/fuzz.ts), not here. Nor does reconnecting over and over
// to start each budget afresh: new connections are budgeted per client address.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { startLectern } from '../helpers/lectern.js';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { SignallingClient } from '../helpers/SignallingClient.js';

const server = lecternForFile({ signalling: { maxFrameBytes: 65_536, maxBytesPerSecond: 131_072, maxInvalidFrames: 20 } });
const connect = (): Promise<SignallingClient> => server.connect();

describe('junk frames', () => {
  it('closes a connection that mixes junk in with valid requests', async () => {
    const client = await connect();
    let closed = false;
    void client.closed.then(() => (closed = true));
    // One junk frame after every valid request: the old counter was reset by each valid one.
    for (let i = 0; i < 40 && !closed; i++) {
      client.sendRaw('{"kind":"request"');
      await Promise.race([client.send('leave', {}), client.closed]);
    }
    expect((await client.closed).code).toBe(1008);
  });

  it('drops frames past the byte budget unread', async () => {
    const client = await connect();
    // 60 KiB frames that would each be answered invalid_data, with their id, if they were parsed.
    const pad = 'x'.repeat(60 * 1024);
    for (let id = 1; id <= 6; id++) client.sendRaw(JSON.stringify({ kind: 'request', id, method: 'leave', data: { pad } }));
    await expect.poll(() => client.frames.length).toBe(6);
    const replies = client.frames.map((f) => (f.kind === 'response' && !f.ok ? `${f.id ?? 'null'}:${f.error.code}` : 'other'));
    // The budget of 128 KiB lets two through; the rest are refused without being read.
    expect(replies).toEqual(['1:invalid_data', '2:invalid_data', 'null:rate_limited', 'null:rate_limited', 'null:rate_limited', 'null:rate_limited']);
  });

  it('keeps honest connections open and answered while another floods', async () => {
    const honest = await connect();
    await honest.ok('join', { room: 'flood', displayName: 'Honest' });
    const flooder = await connect();
    const junk = '['.repeat(50_000);
    for (let i = 0; i < 200; i++) flooder.sendRaw(junk);
    expect((await flooder.closed).code).toBe(1008);
    expect(await honest.send('sendChat', { text: 'still here' })).toMatchObject({ ok: true });
  });
});

describe('reconnecting to start over', () => {
  it('an address that keeps opening new connections is refused with 429 past its budget', async () => {
    const strict = await startLectern({ signalling: { maxConnectionsPerAddressPerMinute: 5 } });
    try {
      const attempt = () =>
        new Promise<number>((resolve, reject) => {
          const socket = new WebSocket(strict.wsUrl);
          socket.once('open', () => {
            socket.terminate();
            resolve(101);
          });
          socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
          socket.once('error', reject);
        });
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push(await attempt());
      expect(statuses).toEqual([101, 101, 101, 101, 101, 429, 429]);
      // The refusal has the one HTTP error body.
      const refused = await strict.app.inject({ method: 'GET', url: '/ws' });
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('too many new connections') } });
    } finally {
      await strict.close();
    }
  });
});
