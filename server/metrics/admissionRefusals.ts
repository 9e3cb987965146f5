// Joins refused for capacity, counted for `lectern_admission_refusals_total`. Process-wide on
// purpose: the admission code (sfu placement, room limits) counts with one call and needs no
// reference to the metrics registry; every NodeMetrics reads the same counts when scraped.
// Reasons are a closed list: a label must never carry a room name or a user.

/** Why a join was refused for capacity. */
export type AdmissionRefusalReason = 'node_full' | 'cluster_full' | 'room_full' | 'too_many_rooms' | 'worker_full';

const counts = new Map<AdmissionRefusalReason, number>();

/** Count one refused join. */
export function countAdmissionRefusal(reason: AdmissionRefusalReason): void {
  counts.set(reason, (counts.get(reason) ?? 0) + 1);
}

/** Refusals so far, by reason. */
export function admissionRefusals(): ReadonlyMap<AdmissionRefusalReason, number> {
  return counts;
}
