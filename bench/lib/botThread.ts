// A worker thread hosting some of the seminar's bots (BotParticipant): werift does all its work in
// JavaScript, so ten bots on one thread fall behind; the pool spreads them over threads.
import { BotParticipant, type BotConsumerCount, type BotCounts, type BotOptions } from './BotParticipant.js';
import { loadWerift } from './werift.js';
import { vp8Clip } from './vp8Clip.js';
import { serveRequests } from './thread.js';

/** One bot to start: its name, and what it sends and signs in with. */
export type BotSpec = { name: string } & BotOptions;

/** A request to a bot thread. */
export type BotRequest =
  | { op: 'join'; wsUrl: string; room: string; bots: BotSpec[]; clip: { width: number; height: number; fps: number; kbps: number } }
  | { op: 'counts' }
  | { op: 'details' }
  | { op: 'setView'; views: Record<string, string[]> }
  | { op: 'reset' }
  | { op: 'close' };

/** One bot's state, as the thread reports it. */
export type BotReport = { name: string; consumers: number; receive: string; errors: string[] } & BotCounts;

/** One bot's state in full: what it sends, its receive transport, and each consumer's counts. */
export type BotDetail = BotReport & { recvTransportId: string; producers: { id: string; kind: 'audio' | 'video' }[]; perConsumer: BotConsumerCount[] };

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
      for (const { name, ...options } of request.bots) {
        for (let attempt = 1; attempt <= 2; attempt++) {
          try {
            bots.push(await BotParticipant.join(werift, request.wsUrl, request.room, name, clip, options));
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
    case 'details':
      return bots.map(
        (b): BotDetail => ({
          name: b.name,
          consumers: b.consumerCount,
          receive: b.receiveState,
          errors: b.errors,
          ...b.counts(),
          recvTransportId: b.recvTransportId,
          producers: b.producers,
          perConsumer: b.consumerCounts(),
        }),
      );
    case 'setView': {
      // Every bot at once, as a class turning to the gallery; a refusal is reported per bot.
      const failures: string[] = [];
      await Promise.all(
        bots
          .filter((b) => request.views[b.name])
          .map(async (b) => {
            const r = await b.setView(request.views[b.name]!).catch((error: Error) => ({ ok: false as const, error: error.message }));
            if (!r.ok) failures.push(`${b.name}: ${r.error}`);
          }),
      );
      return failures;
    }
    case 'reset':
      for (const b of bots) b.resetCounts();
      return null;
    case 'close':
      await Promise.all(bots.splice(0).map((b) => b.close()));
      return null;
  }
});
