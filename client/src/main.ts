// The page: / asks for a room name, /r/<room> asks for your name, then shows the class.
// A room link may carry a signed token after '#token=' (fragments never reach server logs).
import { RoomClient, preloadDevice, type PreloadedDevice } from './RoomClient.js';
import { RequestError, Signalling } from './Signalling.js';
import { ClassView } from './ui/ClassView.js';
import { LectureControls } from './ui/LectureControls.js';
import type { RoomPolicy } from '../../protocol/index.js';
import { $, setStatus } from './ui/dom.js';
import { storage } from './webStorage.js';
import { noteSentAway, returnToSender, takeSentAway, type SentAway } from './Failover.js';

const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_KEY = 'lectern.displayName';
// Set just before the page reloads to join again by itself (away past the server's grace window).
const rejoinKey = (): string => `lectern.rejoin:${location.pathname}`;
function showLanding(): void {
  $('landing').hidden = false;
  $<HTMLFormElement>('landing-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const room = $<HTMLInputElement>('landing-room').value.trim();
    if (ROOM_PATTERN.test(room)) location.assign(`/r/${encodeURIComponent(room)}`);
  });
}

function roomToken(): string | undefined {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  return token ?? storage('sessionStorage')?.getItem(`lectern.token:${location.pathname}`) ?? undefined;
}

/**
 * The name and class title a room link gives, read (not verified: the server does that) so the page
 * shows what the others will see. A link without a name lets the person type one.
 */
function linkClaims(token: string | undefined): { name?: string; title?: string } {
  if (!token) return {};
  try {
    const binary = atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'));
    const payload: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    if (typeof payload !== 'object' || payload === null) return {};
    const { name, title } = payload as Record<string, unknown>;
    return { ...(typeof name === 'string' ? { name } : {}), ...(typeof title === 'string' ? { title } : {}) };
  } catch {
    return {};
  }
}

function showPrejoin(room: string): void {
  // Keep the link's token for reloads of this tab, and take it out of the address bar.
  // Sent here by another server of the cluster (RoomClient's followRedirect): the name comes along
  // and the page joins by itself.
  const arrival = new URLSearchParams(location.hash.slice(1));
  const moves = Math.min(Number(arrival.get('moved')) || 0, 10);
  const movedName = moves > 0 ? arrival.get('name') ?? '' : '';
  // Back from a node this page sent the tab to (its server died, or the person pressed Back).
  let returned: SentAway | undefined = takeSentAway();
  const token = roomToken();
  if (moves > 0 && !token) history.replaceState(null, '', location.pathname);
  if (token) {
    storage('sessionStorage')?.setItem(`lectern.token:${location.pathname}`, token);
    history.replaceState(null, '', location.pathname);
  }
  const claims = linkClaims(token);
  $('prejoin').hidden = false;
  $('prejoin-room').textContent = claims.title ?? room;
  $('room-title').textContent = claims.title ?? room;
  const nameInput = $<HTMLInputElement>('display-name');
  if (claims.name !== undefined) {
    // The server uses the link's name whatever is typed: show it, and do not offer to change it.
    nameInput.value = claims.name;
    nameInput.readOnly = true;
    $<HTMLButtonElement>('join-button').focus();
  } else {
    nameInput.value = movedName || returned?.displayName || (storage('localStorage')?.getItem(NAME_KEY) ?? '');
    nameInput.focus();
  }
  // Open the signalling connection while the name is typed: joining then starts with a socket that
  // is already open (~40 ms sooner to the first picture). Used once; a failed join opens a new one.
  let preconnected: Promise<Signalling> | undefined = Signalling.connect();
  preconnected.catch(() => undefined);
  // And load the media Device (codec probe) meanwhile; kept for a retry after a failed join.
  const preloadedDevice = preloadDevice();
  preloadedDevice.catch(() => undefined);
  $<HTMLFormElement>('prejoin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const displayName = nameInput.value.trim();
    if (!displayName) return;
    if (claims.name === undefined) storage('localStorage')?.setItem(NAME_KEY, displayName);
    $<HTMLButtonElement>('join-button').disabled = true;
    const wants = { camera: $<HTMLInputElement>('start-camera').checked, mic: $<HTMLInputElement>('start-mic').checked };
    const connection = preconnected;
    preconnected = undefined;
    // Only the join that brought the tab back avoids the node it came from; a click follows anywhere.
    const avoid = returned?.to;
    returned = undefined;
    joinClass(room, displayName, token, wants, connection, preloadedDevice, { moves, avoid }).catch((error: unknown) => {
      $('waiting').hidden = true;
      $<HTMLButtonElement>('join-button').disabled = false;
      // That node still holds the class: the person came back from it on purpose.
      if (error instanceof RequestError && error.code === 'moved' && avoid !== undefined && error.redirect === avoid) {
        $('prejoin').hidden = false;
        $('prejoin-error').textContent = 'You left the class. Join to go back in.';
        setStatus('');
        return;
      }
      // The university's servers are full: a page of its own, like the lobby, not a line under the form.
      if (error instanceof RequestError && error.code === 'at_capacity') {
        $('at-capacity-message').textContent = error.message.replace(/^join: /, '');
        $('prejoin').hidden = true;
        $('at-capacity').hidden = false;
        setStatus('');
        return;
      }
      $('prejoin').hidden = false;
      $('prejoin-error').textContent = error instanceof RequestError ? error.message : `Could not join: ${(error as Error).message}`;
      setStatus('');
    });
  });
  $('at-capacity-retry').addEventListener('click', () => {
    $('at-capacity').hidden = true;
    $('prejoin').hidden = false;
    $<HTMLFormElement>('prejoin-form').requestSubmit();
  });
  // Back from a reload that joins again by itself: same name and devices, no click needed.
  const rejoin = storage('sessionStorage')?.getItem(rejoinKey());
  if (rejoin) {
    storage('sessionStorage')?.removeItem(rejoinKey());
    const wants = JSON.parse(rejoin) as { camera?: unknown; mic?: unknown };
    $<HTMLInputElement>('start-camera').checked = wants.camera === true;
    $<HTMLInputElement>('start-mic').checked = wants.mic === true;
    if (nameInput.value) $<HTMLFormElement>('prejoin-form').requestSubmit();
  } else if (returned) {
    $<HTMLInputElement>('start-camera').checked = returned.wants.camera;
    $<HTMLInputElement>('start-mic').checked = returned.wants.mic;
    if (nameInput.value) $<HTMLFormElement>('prejoin-form').requestSubmit();
  } else if (moves > 0 && nameInput.value) {
    $<HTMLFormElement>('prejoin-form').requestSubmit();
  }
}

async function joinClass(
  room: string,
  displayName: string,
  token: string | undefined,
  wants: { camera: boolean; mic: boolean },
  preconnected: Promise<Signalling> | undefined,
  preloadedDevice: Promise<PreloadedDevice>,
  /** `moves`: redirects that brought the page here; `avoid`: the node it came back from (Failover.ts). */
  cluster: { moves: number; avoid: string | undefined },
): Promise<void> {
  setStatus('Joining…');
  const view = new ClassView();
  const lecture = new LectureControls();
  const events = {
    ...view.events,
    roomPolicy: (policy: RoomPolicy) => {
      view.events.roomPolicy?.(policy);
      lecture.render(policy);
    },
    serverGone: () => {
      if (returnToSender(cluster.moves > 0)) setStatus('This server of the class stopped answering: going back to move with the class…');
    },
  };
  // Away too long: the server let us go. A fresh page joins again as a new participant (a clean
  // slate of tiles, transports and listeners), with the same name and devices and no click.
  view.onRejoin = () => {
    // Without storage (framed by an LMS that blocks it) the fresh page asks for the click instead.
    storage('sessionStorage')?.setItem(rejoinKey(), JSON.stringify(wants));
    location.reload();
  };
  // The camera and microphone open as soon as the join says what this person may send, while the
  // transports are set up (a camera takes a few hundred ms to start): in lecture mode a student's
  // camera is not even opened; the microphone is, held muted by the server.
  const allowed = (joined: { permissions: readonly string[]; policy: RoomPolicy }) => ({
    camera: wants.camera && !LectureControls.joinsHeld(joined.policy, joined.permissions) && joined.permissions.includes('produceVideo'),
    mic: wants.mic && joined.permissions.includes('produceAudio'),
  });
  let opening: Promise<{ stream?: MediaStream; problem?: string }> | undefined;
  const joining = RoomClient.join(
    {
      room,
      displayName,
      token,
      preconnected,
      preloadedDevice,
      moves: cluster.moves,
      avoid: cluster.avoid,
      onMoving: (to) => noteSentAway({ to, displayName, wants }),
      onAdmitted: (joined) => {
        opening = getLocalMedia(allowed(joined));
      },
      onWaiting: () => {
        $('prejoin').hidden = true;
        $('waiting').hidden = false;
        setStatus('In the lobby');
      },
    },
    events,
  );
  const { client, state, role, permissions, policy } = await joining.catch(async (error: unknown) => {
    // Not in the class after all (a transport could not be set up): the devices close again.
    for (const track of (await opening)?.stream?.getTracks() ?? []) track.stop();
    throw error;
  });
  $('prejoin').hidden = true;
  $('waiting').hidden = true;
  view.start(client, { name: displayName, role, permissions }, state, policy);
  lecture.start(client, policy, view.can('moderate'));
  const { stream: media, problem } = await (opening ?? getLocalMedia(allowed({ permissions, policy })));
  if (problem) setStatus(problem);
  const cameraTrack = media?.getVideoTracks()[0];
  const micTrack = media?.getAudioTracks()[0];
  view.ownTile?.showLocalVideo(cameraTrack);
  try {
    if (micTrack) await client.publish('microphone', micTrack);
    if (cameraTrack && client.canSendVideo) await client.publish('camera', cameraTrack);
  } catch (error) {
    // Already in the class: this is not a failed join. If the connection went (removed, class
    // ended, network) the class view already says why, and that must stay on screen.
    if (client.connected) setStatus(`Could not send camera/microphone: ${(error as Error).message}`);
  }

  wireToggle('toggle-mic', 'Mute mic', 'Unmute mic', micTrack, async (muted) => {
    await client.setMuted('microphone', muted);
    if (micTrack) micTrack.enabled = !muted;
  });
  wireToggle('toggle-camera', 'Stop camera', 'Start camera', cameraTrack, async (muted) => {
    await client.setMuted('camera', muted);
    if (cameraTrack) cameraTrack.enabled = !muted;
    view.ownTile?.showLocalVideo(muted ? undefined : cameraTrack);
  });
  wireScreenShare(client, view.can('shareScreen'));
  $('leave').addEventListener('click', async () => {
    view.stop();
    await client.leave();
    for (const track of media?.getTracks() ?? []) track.stop();
    location.assign('/');
  });
}

function wireScreenShare(client: RoomClient, allowed: boolean): void {
  const share = $<HTMLButtonElement>('toggle-screen');
  share.hidden = !allowed;
  share.addEventListener('click', async () => {
    if (client.isPublishing('screen')) {
      await client.unpublish('screen');
    } else {
      // Slides: full resolution, few frames; the encoder is told the content is detail, not motion.
      let stream: MediaStream;
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { max: 5 }, width: { max: 1920 }, height: { max: 1080 } }, audio: false });
      } catch (error) {
        // Cancelled in the picker, refused, or nothing this browser can capture (Firefox finds
        // no screen without a display server): say so instead of failing silently.
        setStatus(`Could not share the screen: ${(error as Error).message}`);
        return;
      }
      const track = stream.getVideoTracks()[0];
      if (!track) return;
      await client.publish('screen', track).catch((error: Error) => {
        track.stop();
        setStatus(error.message);
      });
      track.addEventListener('ended', () => {
        share.setAttribute('aria-pressed', 'false');
        share.textContent = 'Share screen';
      });
    }
    const on = client.isPublishing('screen');
    share.setAttribute('aria-pressed', String(on));
    share.textContent = on ? 'Stop sharing' : 'Share screen';
  });
}

/** The camera and microphone asked for; a refusal is returned, to be said once the class is on screen. */
async function getLocalMedia(wants: { camera: boolean; mic: boolean }): Promise<{ stream?: MediaStream; problem?: string }> {
  if (!wants.camera && !wants.mic) return {};
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: wants.mic ? { echoCancellation: true, noiseSuppression: true } : false,
      // 960x540 lets the browser send three simulcast layers (it sends fewer below that size).
      video: wants.camera ? { width: { ideal: 960 }, height: { ideal: 540 }, frameRate: { ideal: 24 } } : false,
    });
    return { stream };
  } catch (error) {
    return { problem: `No camera/microphone: ${(error as Error).message}. You can still watch and listen.` };
  }
}

function wireToggle(id: string, onLabel: string, offLabel: string, track: MediaStreamTrack | undefined, apply: (muted: boolean) => Promise<void>): void {
  const button = $<HTMLButtonElement>(id);
  button.disabled = !track;
  button.addEventListener('click', async () => {
    const muted = button.getAttribute('aria-pressed') !== 'true';
    try {
      await apply(muted);
    } catch (error) {
      setStatus((error as Error).message);
      return;
    }
    button.setAttribute('aria-pressed', String(muted));
    button.textContent = muted ? offLabel : onLabel;
  });
}

// Back to a page kept in the browser's back/forward cache (a node that sent this tab on, see
// Failover.ts): its state is from before it left, so load it afresh to join again.
addEventListener('pageshow', (event) => {
  if (event.persisted) location.reload();
});

const match = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
const room = match?.[1] ? decodeURIComponent(match[1]) : undefined;
if (room && ROOM_PATTERN.test(room)) showPrejoin(room);
else showLanding();
