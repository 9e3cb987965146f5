// A worker thread hosting some of the seminar's bots (BotParticipant): werift does all its work in
// JavaScript, so ten bots on one thread fall behind; the pool spreads them over threads.
import { BotParticipant, type BotCounts } from './BotParticipant.js';
import { loadWerift } from './werift.js';
import { vp8Clip } from './vp8Clip.js';
import { serveRequests } from './thread.js';

/** A request to a bot thread. */
export type BotRequest =
  | { op: 'join'; wsUrl: string; room: string; names: string[]; clip: { width: number; height: number; fps: number; kbps: number } }
  | { op: 'counts' }
  | { op: 'reset' }
  | { op: 'close' };

/** One bot's state, as the thread reports it. */
export type BotReport = { name: string; consumers: number; receive: string; errors: string[] } & BotCounts;

const bots: BotParticipant[] = [];

serveRequests<BotRequest>(async (request) => {
  switch (request.op) {
    case 'join': {
      const werift = await loadWerift();
      const { width, height, fps, kbps } = request.clip;
      const clip = vp8Clip(width, height, fps, 3, kbps);
      const failures: string[] = [];
      const retried: string[] = [];
      // One after another, as people arrive. werift's send transport now and then does not connect
      // on a busy machine: a bot gets a second try (as a person would reload), and a bot that still
      // cannot join is reported, not fatal.
      for (const name of request.names) {
        for (let attempt = 1; attempt <= 2; attempt++) {
          try {
            bots.push(await BotParticipant.join(werift, request.wsUrl, request.room, name, clip));
            if (attempt > 1) retried.push(name);
            break;
          } catch (error) {
            if (attempt === 2) failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
          }
        }
      }
      return { failures, retried };
    }
    case 'counts':
      return bots.map((b): BotReport => ({ name: b.name, consumers: b.consumerCount, receive: b.receiveState, errors: b.errors, ...b.counts() }));
    case 'reset':
      for (const b of bots) b.resetCounts();
      return null;
    case 'close':
      await Promise.all(bots.splice(0).map((b) => b.close()));
      return null;
  }
});
