// Admission control over real signalling and a real media worker: past the workers' capacity a
// student's join is refused with `at_capacity` (and the refusal is in the audit log), those already
// in keep their media, and an instructor is still admitted into the full class from the reserve.
import { readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLectern, type TestLectern } from '../helpers/lectern.js';
import { SignallingClient } from '../helpers/SignallingClient.js';
import { opusParameters, vp8Parameters } from '../helpers/media.js';
import { verifyLog, AUDIT_FILES } from '../../audit/log/index.js';
import { UNMEASURED } from '../../sfu/index.js';

let lectern: TestLectern;
const clients: SignallingClient[] = [];

// One worker forwarding 1,000 packets/s; 20 % of that kept for instructors: students are admitted up
// to 800. No RTP flows here, so every track weighs what an unmeasured one may send (sfu UNMEASURED):
// a microphone 50 packets/s, a camera layer 200.
beforeAll(async () => {
  lectern = await startLectern({
    auth: { tokenSecret: 'admission-test-secret-at-least-32-bytes' },
    media: { capacity: { packetsPerWorker: 1500, reservedForInstructors: 0.2 } },
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await lectern.close();
});

/** Join with a room token; when admitted, set up transports and say ready. */
async function join(room: string, name: string, role: 'instructor' | 'student') {
  const client = await SignallingClient.connect(lectern.wsUrl);
  clients.push(client);
  const token = await lectern.authenticator.issueRoomToken({ room, role, subject: `${name}@uni.example` });
  const reply = await client.send('join', { room, displayName: name, token });
  if (!reply.ok) return { client, error: reply.error };
  const caps = (reply.data as { routerRtpCapabilities: Record<string, unknown> }).routerRtpCapabilities;
  const sendId = (await client.ok('createTransport', { direction: 'send' })).id as string;
  await client.ok('createTransport', { direction: 'recv' });
  await client.ok('ready', { rtpCapabilities: caps });
  return { client, sendId, error: undefined };
}

describe('admission', () => {
  it('refuses a join past capacity with at_capacity, keeps those in, admits an instructor, and audits the refusal', async () => {
    const teacher = await join('full-101', 'Teacher', 'instructor');
    await teacher.client.ok('produce', { transportId: teacher.sendId!, kind: 'audio', rtpParameters: opusParameters(), source: 'microphone' });
    await teacher.client.ok('produce', { transportId: teacher.sendId!, kind: 'video', rtpParameters: vp8Parameters(), source: 'camera' });
    // Each student is due the teacher's 2 tracks (250 packets/s), each packet to a browser weighed
    // 1.5 (its transport runs a bandwidth estimator): 375; three students make 1,125, a fourth
    // would pass the students' 1,200.
    const perStudent = (UNMEASURED.audio.layer.packetRate + UNMEASURED.video.layer.packetRate) * lectern.config.media.capacity.estimatorPacketCost;
    expect(perStudent).toBe(375);
    const students = [];
    for (const name of ['Ann', 'Ben', 'Cem']) {
      const student = await join('full-101', name, 'student');
      expect(student.error).toBeUndefined();
      students.push(student);
    }
    for (const s of students) await s.client.notification('consumerAdded', (d) => d.kind === 'video');
    expect(lectern.sfu.load().projectedConsumers).toBe(6);
    expect(lectern.sfu.load().projected.packetRate).toBe(3 * perStudent);

    const dan = await join('full-101', 'Dan', 'student');
    expect(dan.error).toEqual({ code: 'at_capacity', message: "This class has reached the capacity of the university's servers" });
    // Those already in lose nothing: still their consumers, nobody was told to leave or reset.
    expect(lectern.sfu.load().workers[0]?.consumers).toBe(6);
    for (const s of students) {
      expect(s.client.received('consumerAdded')).toHaveLength(2);
      expect(s.client.received('consumerClosed')).toHaveLength(0);
      expect(s.client.received('peersLeft')).toHaveLength(0);
    }

    // An instructor uses the reserve: admitted into the class that refused Dan (1,125 + 375 is the whole 1,500).
    const coTeacher = await join('full-101', 'CoTeacher', 'instructor');
    expect(coTeacher.error).toBeUndefined();

    // The refusal is in the audit log, with counts only: no name, no identity in clear.
    const file = joinPath(lectern.config.audit.dir, AUDIT_FILES.log);
    await expect.poll(() => readFileSync(file, 'utf8').includes('"room.admission_refused"'), { timeout: 5000 }).toBe(true);
    const records = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { action: string; subject: string; actor: unknown; details: Record<string, unknown> });
    const refused = records.filter((r) => r.action === 'room.admission_refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ subject: 'room:full-101' });
    const bits = UNMEASURED.audio.layer.bitrate + UNMEASURED.video.layer.bitrate;
    expect(refused[0]!.details).toEqual({
      actorRole: 'student',
      limit: 'packets',
      projectedPacketRate: 1125,
      joinPacketRate: 375,
      limitPacketRate: 1200,
      projectedBitrate: 3 * bits,
      joinBitrate: bits,
      limitBitrate: Math.floor(0.8 * lectern.config.media.capacity.sendBitratePerWorker),
      projectedConsumers: 6,
      joinConsumers: 2,
      limitConsumers: Math.floor(0.8 * lectern.config.media.capacity.consumersPerWorker),
      cpuFull: false,
    });
    // The actor is the same keyed pseudonym every other entry of Dan's would carry.
    const joined = records.find((r) => r.action === 'peer.joined');
    expect(Object.keys(refused[0]!.actor as object).sort()).toEqual(Object.keys(joined!.actor as object).sort());
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('Dan@uni.example');
    expect(text).not.toContain('"Dan"');
    expect(await verifyLog(file, lectern.auditLog.publicKeyPem)).toMatchObject({ ok: true });
  });
});
