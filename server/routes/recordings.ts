// Recordings over HTTP: the playback API (summary and events, media with range requests, decrypted
// on the fly), short-lived signed links, and deletion with a receipt.
//
// Who may: the room's instructors (a role with `record`) and, where the recording allows it, its
// students — by a room link for that room (Authorization: Bearer), a sign-in (cookie), or a signed
// playback link (?link=, what <video> elements use since they cannot send headers). Admins (admin
// token) may list and delete. Opening a recording for playback is an audit entry.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { LecternConfig } from '../../config/index.js';
import type { AuditActor, AuditLog } from '../../audit/log/index.js';
import { RecordingEvent, RecordingId, RecordingSummary, httpErrorBody } from '../../protocol/index.js';
import { AuthError, type Authenticator, type Identity } from '../auth/index.js';
import type { RecordingInfo, RecordingService } from '../recording/RecordingService.js';
import { RecordingStoreError } from '../recording/RecordingStoreError.js';
import { PlaybackLinks } from '../recording/PlaybackLinks.js';
import { parseRange } from '../recording/byteRange.js';
import { EVENTS_TRACK } from '../recording/EventsFile.js';

/** What the routes need. */
export interface RecordingRoutesOptions {
  config: LecternConfig;
  authenticator: Authenticator;
  recordings: RecordingService;
  auditLog: AuditLog;
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
const Playback = Type.Object({ recording: RecordingSummary, events: Type.Array(RecordingEvent) });
const Link = Type.Object({ url: Type.String(), token: Type.String(), expiresAt: Type.Integer() });

/** Who is asking, and what they may do with this recording. */
interface Access {
  actor: AuditActor;
  /** For links: the pseudonym the link was issued to. */
  pseudonym: string;
  canPlay: boolean;
  canDelete: boolean;
  via: 'admin' | 'link' | 'token' | 'oidc' | 'guest';
}

/** Register the recording routes. */
export async function recordingRoutes(app: FastifyInstance, options: RecordingRoutesOptions): Promise<void> {
  const { config, authenticator, recordings, auditLog } = options;
  const links = new PlaybackLinks(config.recording.playbackLinkTtlSeconds);

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

  /** The caller's rights on `info`; anonymous and foreign callers are refused here. */
  const access = async (request: FastifyRequest, info: RecordingInfo, link: string | undefined): Promise<Access> => {
    if (authenticator.isAdmin(request)) return { actor: { kind: 'system', name: 'admin' }, pseudonym: 'admin', canPlay: true, canDelete: true, via: 'admin' };
    if (link !== undefined) {
      const grant = links.verify(link, info.id);
      if (!grant) throw new AuthError('unauthorized', 'this playback link is invalid or has expired');
      return { actor: { kind: 'system', name: `playback-link:${grant.pseudonym}` }, pseudonym: grant.pseudonym, canPlay: true, canDelete: false, via: 'link' };
    }
    const identity = await identityOf(request, info.room);
    if (!identity) throw new AuthError('unauthorized', 'sign in, or use a room link or a playback link, to play this recording');
    const instructor = config.roles[identity.role].includes('record');
    const student = identity.role === 'student' && info.studentPlayback;
    if (!instructor && !student) throw new AuthError('forbidden', `your role (${identity.role}) may not play recordings of this room`);
    return { actor: { kind: 'user', id: identity.subject }, pseudonym: auditLog.pseudonym(identity.subject), canPlay: true, canDelete: instructor, via: identity.via };
  };

  /** A room link for the recording's room (Bearer) or a sign-in; undefined when neither. */
  const identityOf = async (request: FastifyRequest, room: string): Promise<Identity | undefined> => {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) return authenticator.verifyRoomToken(header.slice('Bearer '.length).trim(), room);
    return authenticator.identityFromRequest(request, room);
  };

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof LinkQuery> }>(
    '/recordings/:id',
    { schema: { params: Params, querystring: LinkQuery, response: { 200: Playback } } },
    async (request, reply) => {
      const info = await recordingOr404(request.params.id);
      const who = await access(request, info, request.query.link);
      const [recording, events] = await Promise.all([recordings.summary(info.id), recordings.events.read(info.id)]);
      await auditLog.append({ actor: who.actor, action: 'recording.played', subject: `recording:${info.id}`, details: { room: info.room, via: who.via } });
      void reply.header('cache-control', 'no-store');
      return { recording, events };
    },
  );

  app.get<{ Params: Static<typeof TrackParams>; Querystring: Static<typeof LinkQuery> }>(
    '/recordings/:id/tracks/:track',
    { schema: { params: TrackParams, querystring: LinkQuery } },
    async (request, reply) => {
      const info = await recordingOr404(request.params.id);
      await access(request, info, request.query.link);
      const segment = info.manifest.segments.find((s) => s.segmentId === request.params.track && s.complete && s.trackId !== EVENTS_TRACK);
      if (!segment) return reply.code(404).send(httpErrorBody('not_found', `no track ${request.params.track} in this recording`));
      // The seekable view (Duration and Cues ahead of the clusters) when the segment has an index.
      const size = recordings.store.playbackSize(segment);
      const range = parseRange(request.headers.range, size);
      if (range === 'unsatisfiable') {
        return reply.code(416).header('content-range', `bytes */${size}`).send(httpErrorBody('range_not_satisfiable', `range ${request.headers.range} is outside 0-${size - 1}`));
      }
      const opened = await recordings.store.openPlayback(info.id, segment.segmentId, range ?? undefined);
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
      const who = await access(request, info, undefined);
      const { token, expiresAt } = links.issue(info.id, who.pseudonym);
      await auditLog.append({ actor: who.actor, action: 'recording.linkIssued', subject: `recording:${info.id}`, details: { expiresAt: new Date(expiresAt).toISOString() } });
      return { url: `/play/${info.id}#link=${token}`, token, expiresAt };
    },
  );

  app.delete<{ Params: Static<typeof Params> }>(
    '/recordings/:id',
    { schema: { params: Params, response: { 200: Receipt } } },
    async (request, reply) => {
      const info = await recordingOr404(request.params.id);
      const who = await access(request, info, undefined);
      if (!who.canDelete) throw new AuthError('forbidden', 'only an instructor of the room or an admin may delete a recording');
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
