// Junk on the signalling socket costs the server almost nothing and never buys a connection more
// time: frames and bytes are budgeted before parsing, and invalid frames add up whatever valid
// frames are mixed in (issue 12, defect 4). The latency other participants see under such a flood
// is measured in the bench (bench/scenarios/fuzz.ts), not here.
import { describe, expect, it } from 'vitest';
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
