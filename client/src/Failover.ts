// When the class's home node dies, in a cluster. A page only ever navigates within its own origin,
// so the audit can prove every destination of the client: a node that does not hold the class
// sends the browser on with an HTTP redirect from its own /moved/<room> (RoomClient's
// followRedirect). That leaves the page on the home node's origin. If the home node then dies,
// the page cannot name another node, but it can go back in its own history, to the page of the
// node that sent it there: history.back() names no destination. That node knows the class's new
// home (the registry dropped the dead one after its TTL) and sends the page on, or takes the class.
//
// The sending page leaves a note in its own origin's session storage before the hop (where it sent
// the tab, with the name and devices), so that coming back it joins again by itself. Coming back
// can also be the person pressing Back to leave a class that is alive: then the sending node still
// sends the tab to the same node, and the page does not follow (it shows the join form instead).
import { storage } from './webStorage.js';

/** What the sending page noted before the hop. */
export interface SentAway {
  /** The origin of the node the tab was sent to. */
  to: string;
  displayName: string;
  wants: { camera: boolean; mic: boolean };
}

const key = (): string => `lectern.sentAway:${location.pathname}`;

/** Note, before the hop, where this tab is being sent. */
export function noteSentAway(note: SentAway): void {
  storage('sessionStorage')?.setItem(key(), JSON.stringify(note));
}

/** The note of an earlier hop from this page, taken (read once); undefined if there was none. */
export function takeSentAway(): SentAway | undefined {
  const store = storage('sessionStorage');
  const raw = store?.getItem(key());
  if (!raw) return undefined;
  store?.removeItem(key());
  try {
    const note = JSON.parse(raw) as Partial<SentAway>;
    if (typeof note.to !== 'string' || typeof note.displayName !== 'string' || typeof note.wants !== 'object' || note.wants === null) return undefined;
    return { to: note.to, displayName: note.displayName, wants: { camera: note.wants.camera === true, mic: note.wants.mic === true } };
  } catch {
    return undefined;
  }
}

/**
 * The page's server has not answered for `failoverAfterSeconds` (the server's own bound on how long
 * the registry keeps a dead node): go back to the node that sent this tab here, if one did. Returns
 * whether the page is leaving. `navigator.onLine` is not consulted: it is false wherever only
 * loopback is up and says nothing about a server that died. If the person's own network is down
 * instead, the browser shows its offline page and loads the sending node's page when the network
 * is back; that node then sends the tab on (or, if the old server answers again, asks for a click).
 */
export function returnToSender(arrivedByMove: boolean): boolean {
  if (!arrivedByMove || history.length < 2) return false;
  history.back();
  return true;
}
