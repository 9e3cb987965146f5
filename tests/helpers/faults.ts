// Network and process faults for the reconnect tests and bench: cut a participant's signalling
// (server side, and refuse new connections for a while), find and kill the worker hosting a room,
// and time when a page shows a new track's first frame. Import before any worker is created.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { WebSocket as ServerSocket } from 'ws';
import type { Page } from 'playwright-core';
import type { TestLectern } from './lectern.js';

const workerOfRoom = new Map<string, types.Worker>();
// mediasoup's own observer API: the worker each room's router was created on (rooms carry their
// name in the router's appData), including routers on replacement workers.
mediasoup.observer.on('newworker', (worker) => {
  worker.observer.on('newrouter', (router) => {
    const roomName = (router.appData as { roomName?: string }).roomName;
    if (roomName) workerOfRoom.set(roomName, worker);
  });
});

/** The worker hosting a room's router now. */
export function roomWorker(room: string): types.Worker | undefined {
  return workerOfRoom.get(room);
}

/** Sockets of the in-process server open now. */
export function openSockets(server: TestLectern): Set<ServerSocket> {
  return new Set(server.app.websocketServer.clients as Set<ServerSocket>);
}

/**
 * Cut `sockets` server side and refuse every new signalling connection for `ms` (a network that is
 * down both ways); returns how many connection attempts were refused meanwhile.
 */
export async function cutSignalling(server: TestLectern, sockets: ServerSocket[], ms: number): Promise<number> {
  let refused = 0;
  const refuse = (socket: ServerSocket) => {
    refused += 1;
    socket.terminate();
  };
  server.app.websocketServer.on('connection', refuse);
  for (const socket of sockets) socket.terminate();
  await new Promise((resolve) => setTimeout(resolve, ms));
  server.app.websocketServer.off('connection', refuse);
  return refused;
}

/** The id of the video track on `sender`'s tile in this page, if any. */
export async function videoTrackId(page: Page, sender: string): Promise<string | null> {
  return page
    .locator(`.tile[aria-label="${sender}"] video`)
    .evaluate((video: HTMLVideoElement) => (video.srcObject as MediaStream | null)?.getVideoTracks()[0]?.id ?? null);
}

/** When (epoch ms) this page next presents a frame of `sender`'s video from a track other than `oldTrack`. */
export function nextFrameOfNewTrack(page: Page, sender: string, oldTrack: string | null): Promise<number> {
  return page.locator(`.tile[aria-label="${sender}"] video`).evaluate(
    (video: HTMLVideoElement, old: string | null) =>
      new Promise<number>((resolve) => {
        const check = () => {
          const track = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
          if (track && track.id !== old && track.readyState === 'live') {
            video.requestVideoFrameCallback(() => resolve(Date.now()));
          } else setTimeout(check, 20);
        };
        check();
      }),
    oldTrack,
  );
}
