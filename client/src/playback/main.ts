// The playback page (/play/<recording id>): the presenter's screen share or camera, every consented
// audio track kept in step with it, and the events of the class as a timeline to jump through.
// Access is a signed short-lived link: from the URL's fragment (#link=, never sent in a Referer or
// a server log), or asked for with the viewer's sign-in cookie or room link (#token=). Those who
// may export get an Export link through the same signed link.
import type { RecordingEventData, RecordingSummaryData } from '../../../protocol/index.js';

type Track = RecordingSummaryData['tracks'][number];
/** Audio further than this from where the video says it should be is moved back in step. */
const DRIFT_SECONDS = 0.25;

function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`page is missing #${id}`);
  return element as T;
}

function status(text: string): void {
  $('status').textContent = text;
}

async function linkFor(id: string, fragment: URLSearchParams): Promise<string> {
  const given = fragment.get('link');
  if (given) return given;
  const token = fragment.get('token');
  const response = await fetch(`/recordings/${id}/links`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, credentials: 'same-origin' });
  const body = (await response.json()) as { token?: string; error?: { message: string } };
  if (!response.ok || !body.token) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body.token;
}

/** The video to show: the screen share, else the presenter's camera, else any camera. */
function mainVideo(tracks: Track[]): Track | undefined {
  const videos = tracks.filter((t) => t.kind === 'video');
  return videos.find((t) => t.source === 'screen') ?? videos.find((t) => t.presenter) ?? videos[0];
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function describe(event: RecordingEventData): string {
  const who = event.participant ?? '';
  switch (event.type) {
    case 'started': return 'Recording started';
    case 'stopped': return 'Recording stopped';
    case 'joined': return `${who} joined`;
    case 'left': return `${who} left`;
    case 'speaker': return `${who} speaking`;
    case 'screenShareStarted': return `${who} started sharing a screen`;
    case 'screenShareStopped': return `${who} stopped sharing a screen`;
    case 'consent': return `${who}: consent ${event.consent ?? ''}`;
    case 'trackStarted': return `${who}: track recorded`;
    case 'trackEnded': return 'a track ended';
    case 'recorderError': return 'a recorder failed (reported)';
    default: return event.type;
  }
}

async function main(): Promise<void> {
  const id = decodeURIComponent(location.pathname.split('/').pop() ?? '');
  const fragment = new URLSearchParams(location.hash.slice(1));
  const link = await linkFor(id, fragment);
  const q = `link=${encodeURIComponent(link)}`;
  const response = await fetch(`/recordings/${id}?${q}`);
  const body = (await response.json()) as { recording?: RecordingSummaryData; events?: RecordingEventData[]; mayExport?: boolean; error?: { message: string } };
  if (!response.ok || !body.recording || !body.events) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  const { recording, events } = body;
  $('play-title').textContent = `Recording of ${recording.room}, ${new Date(recording.startedAt).toLocaleString()}`;
  const video = $<HTMLVideoElement>('play-video');
  const shown = mainVideo(recording.tracks);
  // With no video, the audio tracks' clock is the first audio track's.
  const audio = recording.tracks.filter((t) => t.kind === 'audio');
  const base = shown ?? audio[0];
  if (shown) video.src = `/recordings/${id}/tracks/${shown.id}?${q}`;
  const players = audio.map((track) => {
    const element = document.createElement('audio');
    element.src = `/recordings/${id}/tracks/${track.id}?${q}`;
    element.preload = 'metadata';
    $('play-audio').append(element);
    return { element, track };
  });
  $('play-tracks').textContent = `${recording.tracks.filter((t) => t.kind === 'video').length} video and ${audio.length} audio track(s) recorded with consent.`;
  // Only for those who may export (the room's instructors, admins): through the page's own link,
  // which the server let export because it was issued to them. A plain download link, so the
  // browser streams the file to disk instead of the page holding a whole class in memory.
  if (body.mayExport) {
    const download = document.createElement('a');
    download.id = 'play-export';
    download.className = 'button';
    download.href = `/recordings/${encodeURIComponent(id)}/export?${q}`;
    download.download = `recording-${id}.mkv`;
    download.textContent = 'Export as one file';
    $('play-tracks').after(download);
  }
  const offset = (track: Track) => (track.offsetMs - (base?.offsetMs ?? 0)) / 1000;
  /** Where an audio track should be when the main video is at `t`. */
  const sync = () => {
    for (const { element, track } of players) {
      const want = video.currentTime - offset(track);
      if (want < 0) {
        element.pause();
        continue;
      }
      if (Math.abs(element.currentTime - want) > DRIFT_SECONDS) element.currentTime = want;
      if (!video.paused && element.paused) void element.play().catch(() => undefined);
      if (video.paused && !element.paused) element.pause();
    }
  };
  for (const type of ['play', 'pause', 'seeked', 'timeupdate', 'ratechange']) video.addEventListener(type, sync);
  const list = $('play-events');
  list.replaceChildren(
    ...events.map((event) => {
      const item = document.createElement('li');
      const jump = document.createElement('button');
      jump.type = 'button';
      jump.textContent = clock(event.at);
      jump.setAttribute('aria-label', `Go to ${clock(event.at)}`);
      jump.addEventListener('click', () => {
        video.currentTime = Math.max(0, event.at / 1000 - (base ? base.offsetMs / 1000 : 0));
      });
      item.append(jump, ` ${describe(event)}`);
      item.dataset.type = event.type;
      return item;
    }),
  );
  document.body.dataset.ready = 'true';
  status('');
}

main().catch((error: Error) => {
  status(`Cannot play this recording: ${error.message}`);
  document.body.dataset.error = error.message;
});
