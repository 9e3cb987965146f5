// Recordings over HTTP: the playback API (summary and events, media with range requests, decrypted
// on the fly), short-lived signed links, a single-file export, and deletion with a receipt.
//
// Who may is decided by PlaybackAccess (the one rule): the room's instructors (a role with
// `record`) and, where the recording allows it, the students of its room — by a room link for that
// room (Authorization: Bearer; an LTI launch ends in one), a sign-in (cookie), or a signed playback
// link (?link=, what <video> elements use since they cannot send headers). Admins (admin token) may
// do everything. Export and deletion need `record` or admin (export also through a link issued to
// someone who may export). Every playback, export and refusal is
// an audit entry; refusals without a (valid) credential one per address-minute (AnonymousRefusals).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { decodeJwt } from 'jose';
import type { LecternConfig } from '../../config/index.js';
import type { AuditActor, AuditLog } from '../../audit/log/index.js';
import { RecordingEvent, RecordingId, RecordingSummary, httpErrorBody } from '../../protocol/index.js';
import { AuthError, type Authenticator, type Identity } from '../auth/index.js';
import type { RecordingInfo, RecordingService } from '../recording/RecordingService.js';
import { RecordingStoreError } from '../recording/RecordingStoreError.js';
import { KeyServiceError } from '../recording/crypto/KeyServiceError.js';
import { PlaybackLinks } from '../recording/PlaybackLinks.js';
import { PlaybackAccess, type RecordingCaller, type RecordingRights, type RefusalReason } from '../recording/PlaybackAccess.js';
import { parseRange } from '../recording/byteRange.js';
import { RecordingExportError, startExport, type ExportResult } from '../recording/RecordingExport.js';
import { EVENTS_TRACK } from '../recording/EventsFile.js';
import type { AnonymousReason } from '../recording/AnonymousRefusals.js';
import type { ClusterNode } from '../cluster/ClusterNode.js';
import { toRecordingHolder } from './recordingHolder.js';

/** What the routes need. */
export interface RecordingRoutesOptions {
  config: LecternConfig;
  authenticator: Authenticator;
  recordings: RecordingService;
  auditLog: AuditLog;
  /** In a cluster, requests for recordings held by another node are sent there (recordingHolder.ts). */
  cluster: ClusterNode;
}

const Params = Type.Object({ id: RecordingId }, { additionalProperties: false });
const TrackParams = Type.Object({ id: RecordingId, track: Type.String({ pattern: '^seg-[0-9]{4,9}$' }) }, { additionalProperties: false });
const LinkQuery = Type.Object({ link: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) }, { additionalProperties: false });
const Receipt = Type.Object({
  recordingId: RecordingId,
  contentHash: Type.String(),
  size: Type.Integer(),
  deletedAt: Type.String(),
  reason: Type.String(),
  /** Sequence number of the receipt in the audit log. */
  auditSeq: Type.Integer(),
});
const Playback = Type.Object({
  recording: RecordingSummary,
  events: Type.Array(RecordingEvent),
  /** Whether the caller may export it (the playback page shows its Export button then). */
  mayExport: Type.Boolean(),
});
const Link = Type.Object({ url: Type.String(), token: Type.String(), expiresAt: Type.Integer() });

/** Who is asking, and what they may do with this recording. */
interface Access {
  actor: AuditActor;
  /** For links: the pseudonym the link was issued to. */
  pseudonym: string;
  rights: RecordingRights;
  via: 'admin' | 'link' | 'token' | 'oidc' | 'guest';
}

/** What an action needs of the caller's rights. */
type Need = 'play' | 'export' | 'delete';

/**
 * The one refusal body: the same whatever the reason (another room, students not allowed, a guest,
 * no `record`), so a refusal tells nobody anything about the recording. The reason is in the audit log.
 */
export const PLAYBACK_REFUSED = "only the room's instructors, and its students where the room allows it, may open this recording";

/**
 * The key service's name when `error` is a data key that could not be unwrapped because KMS did not
 * answer (503: try again), as opposed to one that does not authenticate (a 500, logged).
 */
function keyServiceDown(error: unknown): string | undefined {
  const cause = error instanceof RecordingStoreError ? error.cause : error;
  return cause instanceof KeyServiceError ? cause.service : undefined;
}

/** The 503 body when the key service is down. */
const keyServiceBody = (service: string) => httpErrorBody('unavailable', `the recording's key could not be unwrapped: ${service} did not answer; try again later`);

/** Register the recording routes. */
export async function recordingRoutes(app: FastifyInstance, options: RecordingRoutesOptions): Promise<void> {
  const { config, authenticator, recordings, auditLog } = options;
  const links = new PlaybackLinks(config.recording.playbackLinkTtlSeconds);
  const rules = new PlaybackAccess(config.roles);
  // Every route here names one recording (:id): one held by another node is answered there.
  app.addHook('preHandler', toRecordingHolder({ cluster: options.cluster, recordings }));

  const recordingOr404 = async (id: string): Promise<RecordingInfo> => {
    try {
      return await recordings.info(id);
    } catch (error) {
      if (error instanceof RecordingStoreError && (error.reason === 'not_found' || error.reason === 'invalid_id')) {
        throw Object.assign(new Error(`no recording ${id}`), { statusCode: 404, code: 'not_found' });
      }
      throw error;
    }
  };

  /**
   * The caller's rights on `info` for `need`. No credential, or one that does not verify: 401. A
   * verified caller the rule refuses: 403 with the one body, and an audit entry naming who and why.
   */
  const access = async (request: FastifyRequest, info: RecordingInfo, link: string | undefined, need: Need): Promise<Access> => {
    // Without a credential there is nobody to name: counted per address-minute, audited in bulk.
    const anonymous = (reason: AnonymousReason): void => recordings.anonymousRefusals.note({ address: request.ip, recordingId: info.id, wanted: need, reason });
    let caller: RecordingCaller;
    let who: Omit<Access, 'rights'>;
    if (authenticator.isAdmin(request)) {
      caller = { kind: 'admin' };
      who = { actor: { kind: 'system', name: 'admin' }, pseudonym: 'admin', via: 'admin' };
    } else if (link !== undefined) {
      const grant = links.verify(link, info.id);
      if (!grant) {
        anonymous('invalid-credential');
        throw new AuthError('unauthorized', 'this playback link is invalid or has expired');
      }
      caller = { kind: 'link', grant };
      who = { actor: { kind: 'system', name: `playback-link:${grant.pseudonym}` }, pseudonym: grant.pseudonym, via: 'link' };
    } else {
      let identity: Identity | undefined;
      try {
        identity = await identityOf(request, info.room);
      } catch (error) {
        if (error instanceof AuthError && error.statusCode === 401) anonymous('invalid-credential');
        throw error;
      }
      if (!identity) {
        anonymous('no-credential');
        throw new AuthError('unauthorized', 'sign in, or use a room link or a playback link, to open this recording');
      }
      caller = { kind: 'person', identity };
      who = { actor: { kind: 'user', id: identity.subject }, pseudonym: auditLog.pseudonym(identity.subject), via: identity.via };
    }
    const decision = rules.decide(caller, info);
    if (decision.allowed && decision.rights[need]) return { ...who, rights: decision.rights };
    const reason: RefusalReason = decision.allowed ? 'role-lacks-record' : decision.reason;
    await auditLog.append({
      actor: who.actor,
      action: 'recording.playbackRefused',
      subject: `recording:${info.id}`,
      details: { room: info.room, via: who.via, wanted: need, reason, ...(caller.kind === 'person' ? { role: caller.identity.role } : {}) },
    });
    throw new AuthError('forbidden', PLAYBACK_REFUSED);
  };

  /**
   * A room link (Bearer) or a sign-in; undefined when neither. A link is verified for the room it
   * claims (read unverified only to choose; the signature and every claim are then checked), so a
   * link for another room is a known person refused by the rule, not an anonymous failure.
   */
  const identityOf = async (request: FastifyRequest, room: string): Promise<Identity | undefined> => {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const token = header.slice('Bearer '.length).trim();
      let claimed: unknown;
      try {
        claimed = decodeJwt(token).room;
      } catch {
        throw new AuthError('unauthorized', 'the token is malformed');
      }
      return authenticator.verifyRoomToken(token, typeof claimed === 'string' && claimed !== '*' ? claimed : room);
    }
    return authenticator.identityFromRequest(request, room);
  };

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof LinkQuery> }>(
    '/recordings/:id',
    { schema: { params: Params, querystring: LinkQuery, response: { 200: Playback } } },
    async (request, reply) => {
      const info = await recordingOr404(request.params.id);
      const who = await access(request, info, request.query.link, 'play');
      let recording, events;
      try {
        [recording, events] = await Promise.all([recordings.summary(info.id), recordings.events.read(info.id)]);
      } catch (error) {
        const service = keyServiceDown(error);
        if (service) return reply.code(503).send(keyServiceBody(service));
        throw error;
      }
      await auditLog.append({ actor: who.actor, action: 'recording.played', subject: `recording:${info.id}`, details: { room: info.room, via: who.via } });
      void reply.header('cache-control', 'no-store');
      return { recording, events, mayExport: who.rights.export };
    },
  );

  app.get<{ Params: Static<typeof TrackParams>; Querystring: Static<typeof LinkQuery> }>(
    '/recordings/:id/tracks/:track',
    { schema: { params: TrackParams, querystring: LinkQuery } },
    async (request, reply) => {
      const info = await recordingOr404(request.params.id);
      await access(request, info, request.query.link, 'play');
      const segment = info.manifest.segments.find((s) => s.segmentId === request.params.track && s.complete && s.trackId !== EVENTS_TRACK);
      if (!segment) return reply.code(404).send(httpErrorBody('not_found', `no track ${request.params.track} in this recording`));
      // The seekable view (Duration and Cues ahead of the clusters) when the segment has an index.
      const size = recordings.store.playbackSize(segment);
      const range = parseRange(request.headers.range, size);
      if (range === 'unsatisfiable') {
        return reply.code(416).header('content-range', `bytes */${size}`).send(httpErrorBody('range_not_satisfiable', `range ${request.headers.range} is outside 0-${size - 1}`));
      }
      let opened;
      try {
        opened = await recordings.store.openPlayback(info.id, segment.segmentId, range ?? undefined);
      } catch (error) {
        const service = keyServiceDown(error);
        if (service) return reply.code(503).send(keyServiceBody(service));
        throw error;
      }
      void reply
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'no-store')
        .type(`${segment.kind}/${segment.container === 'mkv' ? 'x-matroska' : 'webm'}`);
      if (range) {
        void reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', String(range.end - range.start + 1));
      } else void reply.header('content-length', String(size));
      return reply.send(opened.stream);
    },
  );

  app.post<{ Params: Static<typeof Params> }>(
    '/recordings/:id/links',
    // No body: one sent anyway is refused, not ignored (Fastify validates no body against a body schema).
    { schema: { params: Params, response: { 200: Link } } },
    async (request) => {
      if (request.body !== undefined && request.body !== null) {
        throw Object.assign(new Error('body: this request takes no body'), { statusCode: 400, code: 'invalid_request' });
      }
      const info = await recordingOr404(request.params.id);
      const who = await access(request, info, undefined, 'play');
      const { token, expiresAt } = links.issue(info.id, who.pseudonym, who.rights.export);
      await auditLog.append({ actor: who.actor, action: 'recording.linkIssued', subject: `recording:${info.id}`, details: { expiresAt: new Date(expiresAt).toISOString() } });
      return { url: `/play/${info.id}#link=${token}`, token, expiresAt };
    },
  );

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof LinkQuery> }>(
    '/recordings/:id/export',
    // A link (what the playback page's Export button downloads with) exports only if it was issued
    // to someone who may export.
    { schema: { params: Params, querystring: LinkQuery } },
    async (request, reply) => {
      const info = await recordingOr404(request.params.id);
      const who = await access(request, info, request.query.link, 'export');
      if (info.active) return reply.code(409).send(httpErrorBody('conflict', 'this recording is still being recorded; stop it first'));
      const subject = `recording:${info.id}`;
      const details = (r: ExportResult) => ({ room: info.room, via: who.via, size: r.size, contentHash: r.contentHash, tracks: r.tracks, complete: r.complete, format: 'matroska' });
      let running;
      try {
        running = await startExport({
          store: recordings.store,
          recordingId: info.id,
          segments: info.manifest.segments,
          log: request.log,
          // Appended before the download's last byte: every whole export is in the audit log.
          seal: async (result) => {
            await auditLog.append({ actor: who.actor, action: 'recording.exported', subject, details: details(result) });
          },
        });
      } catch (error) {
        if (error instanceof RecordingExportError) return reply.code(409).send(httpErrorBody('conflict', error.message));
        const service = keyServiceDown(error);
        if (service) return reply.code(503).send(keyServiceBody(service));
        throw error;
      }
      // One cut short (the download stopped, ffmpeg failed) has left the server in part: recorded too.
      void running.result
        .then(async (result) => {
          if (!result.complete) await auditLog.append({ actor: who.actor, action: 'recording.exported', subject, details: details(result) });
        })
        .catch((error: unknown) => request.log.error({ err: error, recording: info.id }, 'export audit entry failed'));
      void reply
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="recording-${info.id}.mkv"`)
        .header('content-length', String(running.size))
        .type('video/x-matroska');
      return reply.send(running.stream);
    },
  );

  app.delete<{ Params: Static<typeof Params> }>(
    '/recordings/:id',
    { schema: { params: Params, response: { 200: Receipt } } },
    async (request, reply) => {
      const info = await recordingOr404(request.params.id);
      const who = await access(request, info, undefined, 'delete');
      let receipt;
      try {
        receipt = await recordings.delete(info.id, who.via === 'admin' ? 'requested by an admin' : 'requested by an instructor', who.actor);
      } catch (error) {
        if (error instanceof RecordingStoreError && error.reason === 'busy') return reply.code(409).send(httpErrorBody('conflict', error.message));
        throw error;
      }
      const d = receipt.details;
      return { recordingId: info.id, contentHash: String(d.contentHash), size: Number(d.size), deletedAt: String(d.deletedAt), reason: String(d.reason), auditSeq: receipt.seq };
    },
  );
}
