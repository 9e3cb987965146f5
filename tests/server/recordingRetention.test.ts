// Retention with proof of deletion, on a real server with a real store and audit log: the sweeper
// (clock moved past the retention) deletes an expired recording, destroys its data key, and leaves a
// signed receipt that verify-log accepts; an edited receipt is detected; a recording still within
// its retention stays; deletion on request (instructor of the room, admin) leaves the same receipt.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lecternForFile } from '../helpers/lecternForFile.js';
import { AUDIT_FILES, verifyLog, type AuditRecord } from '../../audit/log/index.js';
import { RecordingStoreError } from '../../server/recording/RecordingStoreError.js';
import { main as auditCli } from '../../audit/cli.js';
import type { Finding } from '../../audit/model/types.js';
import type { AdminRuntime } from '../../audit/sources/adminRuntime.js';
import { readAuditLogInput } from '../../audit/sources/auditLogFile.js';
import { checkDeletionReceipts, checkRecordingConsent, checkRecordingRetention } from '../../audit/checks/recordings.js';

const SECRET = 'retention-test-secret-at-least-32-bytes!';
const ADMIN_TOKEN = 'retention-admin-token-3e9a';
const DAY = 86_400_000;
const server = lecternForFile({
  auth: { tokenSecret: SECRET, adminTokens: [createHash('sha256').update(ADMIN_TOKEN).digest('hex')] },
  recording: { retentionDays: 30 },
});

/** Record a short class in `room` (start, stop) and return the recording id. */
async function recordClass(room: string, retentionDays?: number): Promise<string> {
  const client = await server.connect();
  const token = await server.lectern.authenticator.issueRoomToken({ room, role: 'instructor', subject: `teacher-${room}` });
  const joined = await client.ok('join', { room, displayName: 'Teacher', token });
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
  const id = (await client.ok('startRecording', retentionDays ? { retentionDays } : {})).recordingId as string;
  await client.ok('stopRecording', {});
  await server.lectern.recordings.settled(id);
  return id;
}

const logPath = () => join(server.lectern.config.audit.dir, AUDIT_FILES.log);
const publicKey = () => readFileSync(join(server.lectern.config.audit.dir, AUDIT_FILES.publicKey), 'utf8');
const records = (): AuditRecord[] => readFileSync(logPath(), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
const receiptsOf = (id: string) => records().filter((r) => r.action === 'recording.deleted' && r.details.recordingId === id);

describe('retention sweeper', () => {
  it('deletes an expired recording, destroys its key, and appends a receipt verify-log accepts; an edited receipt is detected', async () => {
    const expired = await recordClass('ret-old', 7);
    const kept = await recordClass('ret-new', 30);
    const dir = join(server.lectern.config.recording.dir, expired);
    expect(existsSync(join(dir, 'data-key.json'))).toBe(true);
    // A stray copy of the ciphertext, taken before the deletion (a backup, a copied disk).
    const stray = mkdtempSync(join(tmpdir(), 'lectern-stray-'));
    cpSync(join(dir, 'segments'), join(stray, 'segments'), { recursive: true });
    cpSync(join(dir, 'manifest.json'), join(stray, 'manifest.json'));

    // Nothing is due yet.
    expect(await server.lectern.recordings.sweep(Date.now())).toEqual([]);
    // Eight days later: the 7-day recording is due, the 30-day one is not.
    const later = Date.now() + 8 * DAY;
    const receipts = await server.lectern.recordings.sweep(later);
    expect(receipts.map((r) => r.details.recordingId)).toEqual([expired]);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(server.lectern.config.recording.dir, kept))).toBe(true);

    // The receipt: recording id, content hash, size, time, reason — signed in the audit log.
    const [receipt] = receiptsOf(expired);
    expect(receipt).toMatchObject({
      actor: 'system:retention-sweeper',
      subject: `recording:${expired}`,
      details: { recordingId: expired, room: 'ret-old', reason: 'retention expired', keyDestroyed: true, deletedAt: new Date(later).toISOString() },
    });
    expect(receipt!.details.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(receipt!.details.size).toBeGreaterThan(0);

    // Crypto-shredding: the stray copy put back cannot be read, its data key is gone for good.
    cpSync(stray, dir, { recursive: true });
    await expect(server.lectern.recordings.store.openSegment(expired, 'seg-0001')).rejects.toSatisfy(
      (e: unknown) => e instanceof RecordingStoreError && e.reason === 'key_destroyed',
    );

    await server.lectern.auditLog.durable();
    const verified = await verifyLog(logPath(), publicKey());
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);

    // An edited receipt (a smaller size, another reason) is detected, naming its line.
    const copy = join(mkdtempSync(join(tmpdir(), 'lectern-edited-')), AUDIT_FILES.log);
    const lines = readFileSync(logPath(), 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"recording.deleted"') && l.includes(expired));
    const edited = JSON.parse(lines[at]!) as AuditRecord;
    edited.details.size = 1;
    lines[at] = JSON.stringify(edited);
    writeFileSync(copy, lines.join('\n'));
    const tampered = await verifyLog(copy, publicKey());
    expect(tampered.ok).toBe(false);
    expect(tampered.problems).toContainEqual(expect.objectContaining({ kind: 'edited', line: at + 1 }));
  });
});

describe('deletion on request', () => {
  it('an instructor of the room deletes over HTTP and gets the receipt; a student and another room\'s instructor may not', async () => {
    const id = await recordClass('ret-request');
    const bearer = async (room: string, role: 'instructor' | 'student') =>
      `Bearer ${await server.lectern.authenticator.issueRoomToken({ room, role, subject: `${role}-${room}-x` })}`;
    const url = `/recordings/${id}`;
    expect((await server.lectern.app.inject({ method: 'DELETE', url })).statusCode).toBe(401);
    expect((await server.lectern.app.inject({ method: 'DELETE', url, headers: { authorization: await bearer('ret-request', 'student') } })).statusCode).toBe(403);
    expect((await server.lectern.app.inject({ method: 'DELETE', url, headers: { authorization: await bearer('elsewhere', 'instructor') } })).statusCode).toBe(403);
    const deleted = await server.lectern.app.inject({ method: 'DELETE', url, headers: { authorization: await bearer('ret-request', 'instructor') } });
    expect(deleted.statusCode).toBe(200);
    const body = deleted.json() as { recordingId: string; contentHash: string; size: number; reason: string; auditSeq: number };
    expect(body).toMatchObject({ recordingId: id, reason: 'requested by an instructor' });
    const [receipt] = receiptsOf(id);
    expect(receipt).toMatchObject({ seq: body.auditSeq, details: { contentHash: body.contentHash, size: body.size } });
    expect(receipt!.actor).toMatch(/^user:p:/);
    expect((await server.lectern.app.inject({ method: 'DELETE', url, headers: { authorization: await bearer('ret-request', 'instructor') } })).statusCode).toBe(404);
  });

  it('an admin deletes any recording; the receipt names the admin', async () => {
    const id = await recordClass('ret-admin');
    const deleted = await server.lectern.app.inject({ method: 'DELETE', url: `/recordings/${id}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(deleted.statusCode).toBe(200);
    expect(receiptsOf(id)).toEqual([expect.objectContaining({ actor: 'system:admin', details: expect.objectContaining({ reason: 'requested by an admin' }) })]);
  });

  it('a bad id is refused by the schema, naming the field', async () => {
    const response = await server.lectern.app.inject({ method: 'DELETE', url: '/recordings/..%2Fetc', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringContaining('id') } });
  });
});

describe('lectern audit: recordings', () => {
  const RULES = ['recording-past-retention', 'recording-consent-missing', 'recording-deleted-without-receipt', 'audit-log-invalid', 'recording-consent-unchecked'];

  async function auditLive(extra: string[] = []): Promise<Finding[]> {
    await server.lectern.auditLog.durable();
    let out = '';
    const code = await auditCli(['audit', '--url', server.lectern.url, '--admin-token', ADMIN_TOKEN, '--format', 'json', ...extra], (t) => (out += t), () => undefined);
    expect([0, 1]).toContain(code);
    return (JSON.parse(out) as { findings: Finding[] }).findings.filter((f) => RULES.includes(f.rule));
  }

  it('a clean server: recordings within retention, consent on record, every deletion with a receipt; the map shows them', async () => {
    const client = await server.connect();
    const room = 'ret-audit';
    const teacher = await server.lectern.authenticator.issueRoomToken({ room, role: 'instructor', subject: 'teacher-audit' });
    const joined = await client.ok('join', { room, displayName: 'Teacher', token: teacher });
    const send = await client.ok('createTransport', { direction: 'send' });
    await client.ok('createTransport', { direction: 'recv' });
    await client.ok('ready', { rtpCapabilities: joined.routerRtpCapabilities as Record<string, unknown> });
    const id = (await client.ok('startRecording', {})).recordingId as string;
    // A segment of the teacher's track, as the recorder writes it, so the recording names a participant.
    await server.lectern.recordings.store.writeSegment(
      id,
      { trackId: `${joined.peerId}:microphone`, peerId: joined.peerId as string, kind: 'audio', source: 'microphone', codec: 'audio/opus', container: 'webm', index: 0, producerId: String(send.id), startedAt: Date.now() },
      Readable.from([Buffer.from('webm bytes')]),
    );
    await client.ok('stopRecording', {});
    await server.lectern.recordings.settled(id);
    const log = join(server.lectern.config.audit.dir, AUDIT_FILES.log);

    expect(await auditLive(['--audit-log', log])).toEqual([]);
    // Without the log, consent cannot be shown: reported, not assumed.
    expect((await auditLive()).map((f) => f.rule)).toEqual(['recording-consent-unchecked']);
    const runtime = (await server.lectern.app.inject({ method: 'GET', url: '/admin/runtime', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as AdminRuntime;
    expect(runtime.recordings!.items.find((r) => r.id === id)).toMatchObject({ room, recordedPeerIds: [joined.peerId], retentionDays: 30 });
    let out = '';
    await auditCli(['audit', '--url', server.lectern.url, '--admin-token', ADMIN_TOKEN, '--format', 'text'], (t) => (out += t), () => undefined);
    expect(out).toContain(`Recordings (disk ${server.lectern.config.recording.dir}, ${runtime.recordings!.count} kept)`);
    let json = '';
    await auditCli(['audit', '--url', server.lectern.url, '--admin-token', ADMIN_TOKEN, '--format', 'json'], (t) => (json += t), () => undefined);
    const flow = (JSON.parse(json) as { model: { flows: { kind: string; encryption: string; retention: string }[] } }).model.flows.find((f) => f.kind === 'recordings');
    expect(flow).toMatchObject({ encryption: `encrypted at rest, a data key per recording wrapped by ${runtime.recordings!.kekId}`, retention: expect.stringContaining('30') });

    // The same facts, one thing wrong at a time.
    const source = { source: 'live', runtime, pageHeaders: null };
    const logInput = await readAuditLogInput(log);
    // ... the clock past its retention:
    const late = { ...runtime, recordings: { ...runtime.recordings!, checkedAt: new Date(Date.now() + 31 * DAY).toISOString() } };
    expect(checkRecordingRetention({ runtime: { ...source, runtime: late } }).map((f) => f.rule)).toContain('recording-past-retention');
    // ... a participant without a consent record:
    const stranger = { ...runtime, recordings: { ...runtime.recordings!, items: runtime.recordings!.items.map((r) => (r.id === id ? { ...r, recordedPeerIds: [...r.recordedPeerIds, 'someone-else'] } : r)) } };
    expect(checkRecordingConsent({ runtime: { ...source, runtime: stranger }, auditLog: logInput })).toEqual([expect.objectContaining({ rule: 'recording-consent-missing', evidence: expect.stringContaining('someone-else') })]);
    // ... a recording gone without its receipt (receipt lines cut from the log):
    const cut = { ...logInput, records: logInput.records.filter((r) => r.action !== 'recording.deleted') };
    expect(checkDeletionReceipts({ runtime: source, auditLog: cut }).map((f) => f.rule)).toContain('recording-deleted-without-receipt');
    // ... and cutting them from the file itself breaks the signed chain.
    const copyDir = mkdtempSync(join(tmpdir(), 'lectern-cut-'));
    cpSync(join(server.lectern.config.audit.dir, AUDIT_FILES.publicKey), join(copyDir, AUDIT_FILES.publicKey));
    writeFileSync(join(copyDir, AUDIT_FILES.log), readFileSync(log, 'utf8').split('\n').filter((l) => !l.includes('"recording.deleted"')).join('\n'));
    const rules = (await auditLive(['--audit-log', join(copyDir, AUDIT_FILES.log)])).map((f) => f.rule);
    expect(rules).toContain('audit-log-invalid');
    expect(rules).toContain('recording-deleted-without-receipt');
  });
});
