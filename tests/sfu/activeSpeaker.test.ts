// Speaker detection follows muting: a muted microphone is never the one highlighted.
import { afterEach, expect, it } from 'vitest';
import { Sfu } from '../../sfu/index.js';
import { opusParameters } from '../helpers/media.js';

let sfu: Sfu | undefined;
afterEach(() => {
  sfu?.close();
  sfu = undefined;
});

/** The next `activeSpeaker` event of a room's media, or 'none' after `ms`. */
function nextSpeaker(room: Awaited<ReturnType<Sfu['createRoomMedia']>>, ms = 3000): Promise<string | null | 'none'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('none'), ms);
    room.once('activeSpeaker', (peerId) => {
      clearTimeout(timer);
      resolve(peerId);
    });
  });
}

it('a dominant speaker who mutes stops being named, and the remaining microphone is named instead', async () => {
  sfu = await Sfu.create({ workers: 1, listenIp: '127.0.0.1', rtcPort: 0, logLevel: 'warn', maxIncomingBitrate: 1_500_000, initialAvailableOutgoingBitrate: 600_000 });
  const room = await sfu.createRoomMedia('speakers');
  const peers = ['ada', 'bob'].map((id) => room.addPeer(id));
  const producers = await Promise.all(
    peers.map(async (peer) => peer.publish((await peer.createTransport('send')).id, 'audio', opusParameters(), 'microphone')),
  );
  // With no one louder than anyone, the observer names one of the two on its first evaluation.
  const first = await nextSpeaker(room);
  expect(['ada', 'bob']).toContain(first);
  const muted = peers.findIndex((peer) => peer.peerId === first);
  const other = peers[1 - muted]!.peerId;

  const afterMute: (string | null)[] = [];
  room.on('activeSpeaker', (peerId) => afterMute.push(peerId));
  await peers[muted]!.pauseTrack(producers[muted]!.id);
  await expect.poll(() => afterMute, { timeout: 3000 }).toEqual([null, other]);

  // Unmuting puts her back among the candidates; the one still named stays named until out-talked.
  await peers[muted]!.resumeTrack(producers[muted]!.id);
  expect(await nextSpeaker(room, 1000)).toBe('none');

  // The named speaker leaving: nobody left who could be named but the unmuted other.
  const leaving = new Promise<(string | null)[]>((resolve) => {
    const seen: (string | null)[] = [];
    room.on('activeSpeaker', (peerId) => {
      seen.push(peerId);
      if (seen.length === 2) resolve(seen);
    });
  });
  peers[1 - muted]!.close();
  expect(await leaving).toEqual([null, first]);
});
