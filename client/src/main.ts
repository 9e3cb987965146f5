// The page: / asks for a room name, /r/<room> asks for your name, then shows the class.
import type { PeerInfo } from '../../protocol/index.js';
import { RoomClient, type RemoteTrack } from './RoomClient.js';
import { RequestError } from './Signalling.js';
import { Tile } from './ui/Tile.js';

const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_KEY = 'lectern.displayName';
const STATS_INTERVAL_MS = 1000;

function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element as T;
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

function showLanding(): void {
  $('landing').hidden = false;
  $<HTMLFormElement>('landing-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const room = $<HTMLInputElement>('landing-room').value.trim();
    if (ROOM_PATTERN.test(room)) location.assign(`/r/${encodeURIComponent(room)}`);
  });
}

function showPrejoin(room: string): void {
  $('prejoin').hidden = false;
  $('prejoin-room').textContent = room;
  $('room-title').textContent = room;
  const nameInput = $<HTMLInputElement>('display-name');
  nameInput.value = localStorage.getItem(NAME_KEY) ?? '';
  nameInput.focus();
  $<HTMLFormElement>('prejoin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const displayName = nameInput.value.trim();
    if (!displayName) return;
    localStorage.setItem(NAME_KEY, displayName);
    $<HTMLButtonElement>('join-button').disabled = true;
    const wants = { camera: $<HTMLInputElement>('start-camera').checked, mic: $<HTMLInputElement>('start-mic').checked };
    joinCall(room, displayName, wants).catch((error: unknown) => {
      $<HTMLButtonElement>('join-button').disabled = false;
      $('prejoin-error').textContent =
        error instanceof RequestError ? error.message : `Could not join: ${(error as Error).message}`;
      setStatus('');
    });
  });
}

async function joinCall(room: string, displayName: string, wants: { camera: boolean; mic: boolean }): Promise<void> {
  setStatus('Joining…');
  const grid = $('grid');
  const tiles = new Map<string, Tile>();
  let statsVisible = false;

  const tileFor = (peer: { id: string; displayName: string }): Tile => {
    let tile = tiles.get(peer.id);
    if (!tile) {
      tile = new Tile(peer.id, peer.displayName);
      tile.statsVisible = statsVisible;
      tiles.set(peer.id, tile);
      grid.append(tile.element);
    }
    return tile;
  };
  const updateCount = () => setStatus(`${tiles.size + 1} in the room`);

  const { client, peers } = await RoomClient.join(room, displayName, {
    peerJoined: (peer: PeerInfo) => {
      tileFor(peer);
      updateCount();
    },
    peerLeft: (peerId: string) => {
      tiles.get(peerId)?.element.remove();
      tiles.delete(peerId);
      updateCount();
    },
    trackAdded: (track: RemoteTrack) => tiles.get(track.peerId)?.addTrack(track),
    trackRemoved: (track: RemoteTrack) => tiles.get(track.peerId)?.removeTrack(track),
    trackPaused: (track: RemoteTrack) => tiles.get(track.peerId)?.refresh(),
    disconnected: (reason: string) => {
      setStatus(`Disconnected: ${reason}`);
      clearInterval(statsTimer);
    },
  });
  for (const peer of peers) tileFor(peer);

  $('prejoin').hidden = true;
  $('call').hidden = false;
  const self = new Tile(client.peerId, displayName, true);
  grid.prepend(self.element);
  updateCount();

  const media = await getLocalMedia(wants);
  const cameraTrack = media?.getVideoTracks()[0];
  const micTrack = media?.getAudioTracks()[0];
  self.showLocalVideo(cameraTrack);
  if (micTrack) await client.publish('microphone', micTrack);
  if (cameraTrack && client.canSendVideo) await client.publish('camera', cameraTrack);

  wireToggle('toggle-mic', 'Mute mic', 'Unmute mic', micTrack, async (muted) => {
    if (micTrack) micTrack.enabled = !muted;
    await client.setMuted('microphone', muted);
  });
  wireToggle('toggle-camera', 'Stop camera', 'Start camera', cameraTrack, async (muted) => {
    if (cameraTrack) cameraTrack.enabled = !muted;
    self.showLocalVideo(muted ? undefined : cameraTrack);
    await client.setMuted('camera', muted);
  });
  const statsButton = $<HTMLButtonElement>('toggle-stats');
  statsButton.addEventListener('click', () => {
    statsVisible = !statsVisible;
    statsButton.setAttribute('aria-pressed', String(statsVisible));
    for (const tile of tiles.values()) tile.statsVisible = statsVisible;
  });
  $('leave').addEventListener('click', async () => {
    clearInterval(statsTimer);
    await client.leave();
    for (const track of media?.getTracks() ?? []) track.stop();
    location.assign('/');
  });
  const statsTimer = setInterval(() => {
    for (const tile of tiles.values()) void tile.updateStats();
  }, STATS_INTERVAL_MS);
}

async function getLocalMedia(wants: { camera: boolean; mic: boolean }): Promise<MediaStream | undefined> {
  if (!wants.camera && !wants.mic) return undefined;
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: wants.mic ? { echoCancellation: true, noiseSuppression: true } : false,
      video: wants.camera ? { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } } : false,
    });
  } catch (error) {
    setStatus(`No camera/microphone: ${(error as Error).message}. You can still watch and listen.`);
    return undefined;
  }
}

function wireToggle(
  id: string,
  onLabel: string,
  offLabel: string,
  track: MediaStreamTrack | undefined,
  apply: (muted: boolean) => Promise<void>,
): void {
  const button = $<HTMLButtonElement>(id);
  button.disabled = !track;
  let muted = false;
  button.addEventListener('click', async () => {
    muted = !muted;
    button.setAttribute('aria-pressed', String(muted));
    button.textContent = muted ? offLabel : onLabel;
    await apply(muted);
  });
}

const match = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
const room = match?.[1] ? decodeURIComponent(match[1]) : undefined;
if (room && ROOM_PATTERN.test(room)) showPrejoin(room);
else showLanding();
