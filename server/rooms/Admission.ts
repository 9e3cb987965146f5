// Honest admission: a join that would take the media workers past what they carry without loss is
// refused with `at_capacity`, instead of admitted into a class where everyone's media then degrades
// (or, as in the story this project answers, spilled to servers elsewhere). Instructors and
// presenters keep a reserve: a full lecture still gets its lecturer. The capacity is the media
// plane's (Sfu.load(): the packets/s and bits/s the workers' consumers forward, measured per track,
// plus what placed subscribers are due, and the consumers they hold, against media.capacity; and
// the measured CPU). The rule itself is sfu's capacityRefusal, shared with its non-browser subscribers.
import type { CapacityRefusal, ForwardLoad, Sfu } from '../../sfu/index.js';
import type { Role, RolesConfig } from '../../config/index.js';

/** What the client shows on the page (client/src/main.ts shows it full-page). */
export const AT_CAPACITY_MESSAGE = "This class has reached the capacity of the university's servers";

/** Why a join was refused, for the audit log and the structured log: counts only, nobody's data. */
export type AdmissionRefusal = CapacityRefusal;

/** Decides whether the media workers can take one more participant. */
export class Admission {
  readonly #sfu: Sfu;
  readonly #reserved: number;
  readonly #roles: RolesConfig;

  /** `reserved`: share of the capacity only instructors and presenters may use (media.capacity.reservedForInstructors). */
  constructor(sfu: Sfu, reserved: number, roles: RolesConfig) {
    this.#sfu = sfu;
    this.#reserved = reserved;
    this.#roles = roles;
  }

  /**
   * Whether a participant of `role` may join a room where they are due `join` (RoomMedia.joinLoad:
   * what the tracks they will receive forward); the refusal's numbers when not. Roles that may
   * moderate or share a screen use the reserve.
   */
  refusal(role: Role, join: ForwardLoad): AdmissionRefusal | undefined {
    const privileged = this.#roles[role].some((p) => p === 'moderate' || p === 'shareScreen');
    // The arithmetic is the media plane's (capacityRefusal), shared with its non-browser subscribers.
    return this.#sfu.refusal(join, privileged, this.#reserved);
  }
}
