// Honest admission: a join that would take the media workers past what they carry without loss is
// refused with `at_capacity`, instead of admitted into a class where everyone's media then degrades
// (or, as in the story this project answers, spilled to servers elsewhere). Instructors and
// presenters keep a reserve: a full lecture still gets its lecturer. The capacity is the media
// plane's (Sfu.load(): consumers due per worker against media.capacity, and the measured CPU).
import type { Sfu } from '../../sfu/index.js';
import type { Role, RolesConfig } from '../../config/index.js';

/** What the client shows on the page (client/src/main.ts shows it full-page). */
export const AT_CAPACITY_MESSAGE = "This class has reached the capacity of the university's servers";

/** Why a join was refused, for the audit log and the structured log: counts only, nobody's data. */
export interface AdmissionRefusal {
  /** Consumers the workers carry or are due to, before this join. */
  projectedConsumers: number;
  /** Consumers this join would add (the tracks in the room). */
  joinConsumers: number;
  /** The limit that applied to this participant. */
  limitConsumers: number;
  /** Whether every worker measured past its CPU ceiling. */
  cpuFull: boolean;
}

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
   * Whether a participant of `role` may join a room where they are due `joinConsumers` consumers;
   * the refusal's numbers when not. Roles that may moderate or share a screen use the reserve.
   */
  refusal(role: Role, joinConsumers: number): AdmissionRefusal | undefined {
    const load = this.#sfu.load();
    const privileged = this.#roles[role].some((p) => p === 'moderate' || p === 'shareScreen');
    const limitConsumers = Math.floor(load.capacityConsumers * (privileged ? 1 : 1 - this.#reserved));
    const ceiling = this.#sfu.capacity.cpuCeiling;
    // Measured, not projected: a worker past its ceiling already queues packets. The reserve holds here too.
    const cpuFull = load.workers.length > 0 && load.workers.every((w) => w.cpu >= ceiling);
    const over = load.projectedConsumers + joinConsumers > limitConsumers;
    if (!over && !(cpuFull && !privileged) && load.workers.length > 0) return undefined;
    return { projectedConsumers: load.projectedConsumers, joinConsumers, limitConsumers, cpuFull };
  }
}
