// One real Lectern per test file, with the signalling clients its tests open: started before the file's
// tests, and every client and then the server closed after them, so no test leaks a socket or a worker.
import { afterAll, beforeAll } from 'vitest';
import { startLectern, type TestLectern } from './lectern.js';
import { SignallingClient } from './SignallingClient.js';

export interface LecternForFile {
  /** The file's server; it starts in `beforeAll`, so read it only inside tests and hooks. */
  readonly lectern: TestLectern;
  /** A client on the file's server, or on `wsUrl` (a server a test starts itself); closed after the file. */
  connect(wsUrl?: string): Promise<SignallingClient>;
}

/** Registers the file's `beforeAll`/`afterAll`; the arguments are `startLectern`'s. */
export function lecternForFile(...args: Parameters<typeof startLectern>): LecternForFile {
  let lectern: TestLectern | undefined;
  const clients: SignallingClient[] = [];
  beforeAll(async () => {
    lectern = await startLectern(...args);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await lectern?.close();
  });
  return {
    get lectern(): TestLectern {
      if (!lectern) throw new Error('the file\'s Lectern is not started yet: use it inside a test or hook');
      return lectern;
    },
    async connect(wsUrl?: string): Promise<SignallingClient> {
      const client = await SignallingClient.connect(wsUrl ?? this.lectern.wsUrl);
      clients.push(client);
      return client;
    },
  };
}
