// Lecture mode in the page: the instructor's toggle (in the instructor controls), and what everyone
// is told when the room is in lecture mode. The server enforces the mode; the page only follows it:
// a student joining a lecture does not open the camera at all, and the microphone the server holds
// muted shows as muted (moderatorMuted) until an instructor allows them.
import type { RoomPolicy } from '../../../protocol/index.js';
import type { RoomClient } from '../RoomClient.js';
import { $, setStatus } from './dom.js';

/** The lecture-mode toggle and notices. */
export class LectureControls {
  #button: HTMLButtonElement | undefined;
  #enabled: boolean | undefined;

  /** Whether joining with this policy and these permissions starts held (no camera, muted microphone). */
  static joinsHeld(policy: RoomPolicy, permissions: readonly string[]): boolean {
    // Presenters are exempt too, but nobody is presenter before they are in the class.
    return policy.lectureMode && !permissions.includes('moderate');
  }

  /** Show the current mode; instructors (who may moderate) get the toggle. */
  start(client: RoomClient, policy: RoomPolicy, canToggle: boolean): void {
    if (canToggle) {
      const toggle = document.createElement('button');
      toggle.type = 'button';
      toggle.id = 'toggle-lecture';
      toggle.addEventListener('click', () => {
        const enabled = toggle.getAttribute('aria-pressed') !== 'true';
        void client.call('setLectureMode', { enabled }).then(
          (p) => this.render(p),
          (error: Error) => setStatus(error.message),
        );
      });
      // Next to "Mute all": both decide who may speak.
      $('mute-all').after(toggle);
      this.#button = toggle;
    }
    this.render(policy);
  }

  /** Follow a policy from the server (join reply, roomPolicy notification, toggle reply). */
  render(policy: RoomPolicy): void {
    const changed = this.#enabled !== undefined && this.#enabled !== policy.lectureMode;
    const first = this.#enabled === undefined;
    this.#enabled = policy.lectureMode;
    document.body.dataset.lectureMode = String(policy.lectureMode);
    if (this.#button) {
      this.#button.setAttribute('aria-pressed', String(policy.lectureMode));
      this.#button.textContent = policy.lectureMode ? 'End lecture mode' : 'Lecture mode';
      this.#button.title = 'Lecture mode: students join muted with camera off and speak when you allow them';
    }
    // Students hear about it when they join into it; everyone when it changes.
    if (changed || (first && policy.lectureMode && !this.#button)) {
      setStatus(
        policy.lectureMode
          ? this.#button
            ? 'Lecture mode is on: students are muted until you allow them.'
            : 'This class is in lecture mode: raise your hand to ask to speak.'
          : 'Lecture mode is off.',
      );
    }
  }
}
