// Recording in the page: a persistent "Recording" banner while the class is recorded, a notice that
// cannot be missed (a modal dialog that Escape does not dismiss) asking each participant to consent
// or decline, who is being recorded in the participant list, and the instructor's start/stop. The
// server enforces all of it; this only shows it and carries the answers.
import type { RecordingStateData } from '../../../protocol/index.js';
import type { RoomClient } from '../RoomClient.js';
import { $, setStatus } from './dom.js';

/** Recording as one participant sees it. */
export class RecordingPanel {
  #client: RoomClient | undefined;
  #state: RecordingStateData | undefined;
  /** Called when who is recorded changed (the class view re-renders its list). */
  #changed: () => void = () => undefined;

  /** Wire the controls once in the class. */
  start(client: RoomClient, canRecord: boolean, changed: () => void): void {
    this.#client = client;
    this.#changed = changed;
    $('recording-panel').hidden = !canRecord;
    const report = (error: Error) => setStatus(error.message);
    $('recording-toggle').addEventListener('click', () => {
      if (this.#state?.recording) void client.call('stopRecording', {}).then(() => setStatus('Recording stopped.'), report);
      else {
        const days = Number($<HTMLInputElement>('recording-retention').value);
        void client.call('startRecording', Number.isInteger(days) && days > 0 ? { retentionDays: days } : {}).then(() => setStatus('Recording started; everyone was asked for consent.'), report);
      }
    });
    const dialog = $<HTMLDialogElement>('recording-notice');
    // The notice must be answered: Escape does not close it.
    dialog.addEventListener('cancel', (event) => event.preventDefault());
    $('recording-consent-yes').addEventListener('click', () => this.#answer(true));
    $('recording-consent-no').addEventListener('click', () => this.#answer(false));
    $('recording-change').addEventListener('click', () => this.#answer(this.#state?.myConsent === 'declined'));
    if (this.#state) this.state(this.#state);
  }

  /** The server's recording state changed. */
  state(state: RecordingStateData): void {
    const previous = this.#state;
    this.#state = state;
    if (!this.#client) return;
    const banner = $('recording-banner');
    banner.hidden = !state.recording;
    const recorded = state.myConsent === 'consented' || state.myConsent === 'informed';
    $('recording-me').textContent = !state.recording
      ? ''
      : recorded
        ? 'You are being recorded.'
        : state.myConsent === 'declined'
          ? 'You are not being recorded (you declined).'
          : 'You are not being recorded until you agree.';
    $('recording-change').textContent = recorded ? 'Stop recording me' : 'Record me';
    $('recording-change').hidden = !state.recording || state.myConsent === 'pending';
    $('recording-toggle').textContent = state.recording ? 'Stop recording' : 'Start recording';
    $<HTMLInputElement>('recording-retention').disabled = state.recording;
    const dialog = $<HTMLDialogElement>('recording-notice');
    // Asked: pending. Informed: shown once per recording so it is never missed.
    const ask = state.recording && (state.myConsent === 'pending' || (state.myConsent === 'informed' && previous?.recordingId !== state.recordingId));
    if (ask) {
      $('recording-notice-text').textContent =
        state.policy === 'ask'
          ? 'This class is now being recorded. Your camera, microphone and screen are recorded only if you agree. You may stay in the class either way.'
          : 'This class is now being recorded, and you are included unless you decline. You may stay in the class either way.';
      $('recording-consent-yes').textContent = state.policy === 'ask' ? 'I agree to be recorded' : 'OK';
      if (!dialog.open) dialog.showModal();
    } else if (dialog.open && state.myConsent !== 'informed') dialog.close();
    if (!state.recording && dialog.open) dialog.close();
    this.#changed();
  }

  /** Whether a participant's tracks are in the recording. */
  isRecorded(peerId: string): boolean {
    return this.#state?.recordedPeerIds.includes(peerId) ?? false;
  }

  #answer(consent: boolean): void {
    const dialog = $<HTMLDialogElement>('recording-notice');
    void this.#client?.call('recordingConsent', { consent }).then(
      (state) => {
        if (dialog.open) dialog.close();
        this.state(state);
      },
      (error: Error) => setStatus(error.message),
    );
  }
}
