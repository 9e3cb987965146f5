// Every signalling method and its handler. The HandlerTable type makes a missing handler a compile error.
import type { HandlerTable } from '../Handler.js';
import { join } from './join.js';
import { ready } from './ready.js';
import { createTransport } from './createTransport.js';
import { connectTransport } from './connectTransport.js';
import { produce } from './produce.js';
import { pauseProducer, resumeProducer, closeProducer } from './producerControl.js';
import { resumeConsumer } from './resumeConsumer.js';
import { leave } from './leave.js';
import { renewIce } from './renewIce.js';
import { resume } from './resume.js';
import { restartIce } from './restartIce.js';
import { resetMedia } from './resetMedia.js';
import { sendChat, raiseHand } from './participation.js';
import { setConsumerPreferences, setLowBandwidth, setView } from './receiving.js';
import { admit, deny, setRoomPolicy } from './lobby.js';
import { muteParticipant, muteAll, allowUnmute, setLectureMode, removeParticipant, setPresenter, lowerHand, endClass } from './moderation.js';
import { openPoll, answerPoll, closePoll, sharePollResults, exportPoll } from './polls.js';
import { startRecording, stopRecording, recordingConsent } from './recording.js';
import { startBreakouts, endBreakouts, visitBreakout, broadcastToBreakouts } from './breakouts.js';

/** The handler for each method. */
export const handlers: HandlerTable = {
  join,
  ready,
  createTransport,
  connectTransport,
  produce,
  pauseProducer,
  resumeProducer,
  closeProducer,
  resumeConsumer,
  leave,
  renewIce,
  resume,
  restartIce,
  resetMedia,
  sendChat,
  raiseHand,
  setConsumerPreferences,
  setLowBandwidth,
  setView,
  admit,
  deny,
  setRoomPolicy,
  muteParticipant,
  muteAll,
  allowUnmute,
  setLectureMode,
  removeParticipant,
  setPresenter,
  lowerHand,
  endClass,
  openPoll,
  answerPoll,
  closePoll,
  sharePollResults,
  exportPoll,
  startBreakouts,
  endBreakouts,
  visitBreakout,
  broadcastToBreakouts,
  startRecording,
  stopRecording,
  recordingConsent,
};
