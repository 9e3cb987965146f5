// The browser's Signalling class against a real server whose rate limit is tiny: a burst of
// requests (what a big class's join sends: a resume per track, a size per tile) must all succeed,
// because the client backs off and retries when told `rate_limited`, instead of dropping some.
// Runs in Node with ws standing in for the browser's WebSocket (same event API).
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';

let lectern: TestLectern;

beforeAll(async () => {
  lectern = await startLectern({ signalling: { maxFrameBytes: 4096, maxInvalidFrames: 8, maxRequestsPerSecond: 4 } });
  Object.assign(globalThis, { WebSocket, location: new URL(lectern.url) });
});
afterAll(async () => {
  await lectern.close();
});

describe('the client under the server rate limit', () => {
  it('gets every request of a burst through by backing off, where a plain client is refused', async () => {
    const { Signalling } = await import('../../client/src/Signalling.js');

    // The same burst from a client that does not retry: the server refuses part of it.
    const plain = await SignallingClient.connect(lectern.wsUrl);
    await plain.ok('join', { room: 'burst', displayName: 'Plain' });
    const raw = await Promise.all(Array.from({ length: 10 }, (_, i) => plain.send('raiseHand', { raised: i % 2 === 0 })));
    expect(raw.filter((r) => !r.ok && (r as { error: { code: string } }).error.code === 'rate_limited').length).toBeGreaterThan(0);
    plain.close();

    const client = await Signalling.connect();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a full bucket, as for the plain client
    await client.request('join', { room: 'burst', displayName: 'Patient' });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => client.request('raiseHand', { raised: i % 2 === 0 })));
    expect(replies).toHaveLength(10);
    client.close();
  }, 30_000);
});
