// Recordings as the running server keeps them (admin runtime), judged against the signed audit
// log: none kept past its retention, every recorded participant's consent on record, every
// recording that is gone deleted with a receipt. Default deny: what cannot be shown is reported.
import type { AuditInputs, Finding } from '../model/types.js';
import type { AuditRecord } from '../log/index.js';
import { recordingKeyFacts } from '../model/recordingKeys.js';

const RECORDED = new Set(['consented', 'informed']);

/** No recording kept past its retention (judged at the server's own listing time). */
export function checkRecordingRetention(inputs: AuditInputs): Finding[] {
  const listing = inputs.runtime?.runtime.recordings;
  if (!listing) return [];
  const at = Date.parse(listing.checkedAt);
  return listing.items
    .filter((r) => !r.active && !(Date.parse(r.expiresAt) > at))
    .map((r) => ({
      rule: 'recording-past-retention',
      severity: 'high' as const,
      title: `Recording ${r.id} of ${r.room} is kept past its retention`,
      evidence: `expired ${r.expiresAt} (${r.retentionDays} days), still listed at ${listing.checkedAt}`,
      where: `${inputs.runtime!.source} recordings.items`,
    }));
}

/** Every participant in a recording consented (or was informed, under the inform policy) in the signed log. */
export function checkRecordingConsent(inputs: AuditInputs): Finding[] {
  const listing = inputs.runtime?.runtime.recordings;
  if (!listing || listing.items.length === 0) return [];
  const log = inputs.auditLog;
  if (!log) {
    return [{ rule: 'recording-consent-unchecked', severity: 'medium', title: 'Consent of recorded participants not checked', evidence: `${listing.items.length} recording(s); give --audit-log to check their consent records`, where: `${inputs.runtime!.source} recordings` }];
  }
  const findings: Finding[] = [];
  for (const recording of listing.items) {
    const consents = entries(log.records, 'recording.consent', recording.id);
    if (entries(log.records, 'recording.started', recording.id).length === 0) {
      findings.push({ rule: 'recording-consent-missing', severity: 'high', title: `Recording ${recording.id} has no start in the audit log`, evidence: 'no recording.started entry names it', where: log.source });
    }
    for (const peerId of recording.recordedPeerIds) {
      // The last decision before the tracks were recorded must allow it; any consent on record for this participant is required.
      const theirs = consents.filter((r) => r.details.peerId === peerId);
      if (!theirs.some((r) => RECORDED.has(String(r.details.decision)))) {
        findings.push({
          rule: 'recording-consent-missing',
          severity: 'high',
          title: `Recording ${recording.id} holds tracks of a participant with no consent on record`,
          evidence: `participant ${peerId}: ${theirs.length === 0 ? 'no recording.consent entry' : `decisions ${theirs.map((r) => r.details.decision).join(', ')}`}`,
          where: log.source,
        });
      }
    }
  }
  return findings;
}

/** Every recording the log says was started and the server no longer has was deleted with a receipt. */
export function checkDeletionReceipts(inputs: AuditInputs): Finding[] {
  const log = inputs.auditLog;
  if (!log) return [];
  const findings: Finding[] = [];
  if (log.problems.length > 0) {
    findings.push({ rule: 'audit-log-invalid', severity: 'high', title: 'The audit log does not verify', evidence: log.problems.slice(0, 3).map((p) => p.message).join('; '), where: log.source });
  }
  const listing = inputs.runtime?.runtime.recordings;
  if (!listing) return findings;
  const kept = new Set(listing.items.map((r) => r.id));
  const started = new Set(log.records.filter((r) => r.action === 'recording.started').map((r) => String(r.details.recordingId)));
  for (const id of started) {
    if (kept.has(id)) continue;
    const receipts = entries(log.records, 'recording.deleted', id);
    const receipt = receipts[0];
    if (!receipt || !/^[0-9a-f]{64}$/.test(String(receipt.details.contentHash)) || typeof receipt.details.size !== 'number') {
      findings.push({ rule: 'recording-deleted-without-receipt', severity: 'high', title: `Recording ${id} is gone without a deletion receipt`, evidence: receipt ? 'the receipt lacks its content hash or size' : 'no recording.deleted entry names it', where: log.source });
    }
  }
  return findings;
}

function entries(records: AuditRecord[], action: string, recordingId: string): AuditRecord[] {
  return records.filter((r) => r.action === action && r.details.recordingId === recordingId);
}

/**
 * Recording keys whose residency cannot be shown by their region alone: a multi-Region KMS key (or
 * a replica) can have copies in other regions and countries, made at any time. Where a key is (in
 * or outside the country, or unknown) is judged with every other flow.
 */
export function checkRecordingKeys(inputs: AuditInputs): Finding[] {
  return recordingKeyFacts(inputs)
    .filter((key) => key.kind === 'kms' && key.multiRegion === true)
    .map((key) => ({
      rule: 'recording-key-multi-region',
      severity: 'high' as const,
      title: `Recordings are wrapped by a multi-Region KMS key (${key.id})`,
      evidence: `${key.basis}; replicas of a multi-Region key may be created in any region: use a single-Region key in the country`,
      where: key.urn ?? key.seenIn,
    }));
}
