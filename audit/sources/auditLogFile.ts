// The server's audit log as an audit input (--audit-log): verified against its public key (beside
// it unless given), then its entries read, so the recording checks judge consent records and
// deletion receipts from signed entries, not from what the server says about itself.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AUDIT_FILES, verifyLog, type AuditRecord, type LogProblem } from '../log/index.js';
import { parseRecord, splitLines } from '../log/records.js';

/** A verified (or not) audit log. */
export interface AuditLogInput {
  source: string;
  /** Entries whose line parsed (authentic or not: problems say which are not). */
  records: AuditRecord[];
  /** What verification found; empty when the log is intact. */
  problems: LogProblem[];
}

/** Read and verify the log at `file` with the public key at `publicKeyFile` (default: beside it). */
export async function readAuditLogInput(file: string, publicKeyFile = join(dirname(file), AUDIT_FILES.publicKey)): Promise<AuditLogInput> {
  const bytes = readFileSync(file);
  const verification = await verifyLog(file, readFileSync(publicKeyFile, 'utf8'));
  const records: AuditRecord[] = [];
  for (const line of splitLines(bytes)) {
    const parsed = parseRecord(line.text);
    if ('record' in parsed) records.push(parsed.record);
  }
  return { source: file, records, problems: verification.problems.filter((p) => p.kind !== 'truncated-tail') };
}
