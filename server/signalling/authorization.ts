// Who may call what, checked in one place before any handler runs. The table is complete by type:
// a new protocol method without an entry here does not compile. What each role may do is data
// (config `roles`); this table only says which permission a method needs.
import type { Permission } from '../../config/index.js';
import type { MethodName, RequestData } from '../../protocol/index.js';
import type { Peer } from '../rooms/Peer.js';
import { SignallingError } from './SignallingError.js';

/** What a method needs from the caller. */
type Requirement<M extends MethodName> =
  | 'anyone' // no room yet: join decides by sign-in, token or guest access
  | 'member' // in a room, even if still waiting in the lobby
  | 'admitted' // in the class
  | Permission // in the class, with this permission
  | ((data: RequestData<M>) => Permission); // the permission depends on the request

const SOURCE_PERMISSION = { microphone: 'produceAudio', camera: 'produceVideo', screen: 'shareScreen' } as const;

/** The requirement of every method. */
export const REQUIREMENTS: { [M in MethodName]: Requirement<M> } = {
  join: 'anyone',
  // The resume secret is the credential; the handler checks it.
  resume: 'anyone',
  restartIce: 'admitted',
  resetMedia: 'admitted',
  leave: 'member',
  // Whoever holds a credential from join may swap it for a fresh one, lobby included.
  renewIce: 'member',
  ready: 'admitted',
  createTransport: 'admitted',
  connectTransport: 'admitted',
  resumeConsumer: 'admitted',
  setConsumerPreferences: 'admitted',
  setLowBandwidth: 'admitted',
  setView: 'admitted',
  pauseProducer: 'admitted',
  closeProducer: 'admitted',
  // Unmuting needs the same right as sending; a moderator's lock is checked by the handler.
  resumeProducer: 'admitted',
  produce: (data) => SOURCE_PERMISSION[data.source],
  sendChat: 'chat',
  raiseHand: 'raiseHand',
  admit: 'admit',
  deny: 'admit',
  setRoomPolicy: 'admit',
  muteParticipant: 'moderate',
  muteAll: 'moderate',
  allowUnmute: 'moderate',
  setLectureMode: 'moderate',
  removeParticipant: 'moderate',
  setPresenter: 'moderate',
  lowerHand: 'moderate',
  endClass: 'endClass',
  openPoll: 'poll',
  // Everyone in the class may answer; the poll itself refuses a second answer.
  answerPoll: 'admitted',
  closePoll: 'poll',
  sharePollResults: 'poll',
  exportPoll: 'poll',
  startBreakouts: 'breakout',
  endBreakouts: 'breakout',
  visitBreakout: 'breakout',
  broadcastToBreakouts: 'breakout',
  startRecording: 'record',
  stopRecording: 'record',
  // Everyone in the class answers the recording notice for themselves.
  recordingConsent: 'admitted',
};

/** Throw the wire error that says why `peer` may not call `method`; return if allowed. */
export function authorize<M extends MethodName>(method: M, data: RequestData<M>, peer: Peer | undefined): void {
  const requirement = REQUIREMENTS[method] as Requirement<M>;
  if (requirement === 'anyone') return;
  if (!peer) throw new SignallingError('not_joined', 'join a room first');
  if (requirement === 'member') return;
  if (!peer.admitted) throw new SignallingError('in_lobby', 'waiting for an instructor to let you in');
  if (requirement === 'admitted') return;
  const permission = typeof requirement === 'function' ? requirement(data) : requirement;
  if (!peer.can(permission)) {
    throw new SignallingError('forbidden', `your role (${peer.role}) may not ${method} (needs ${permission})`);
  }
}
