// Class events into the tamper-evident audit log (audit/log) and the structured log. Actors are
// written as keyed pseudonyms by the log itself; the participant acted upon is pseudonymised here
// with the same key, so one person has one pseudonym throughout the log.
import type { FastifyBaseLogger } from 'fastify';
import type { AuditLog } from '../../audit/log/index.js';
import type { ClassEvent, ClassRecorder } from '../rooms/ClassRecord.js';
import { Acknowledgement } from './Acknowledgement.js';

/** ClassRecorder writing to an AuditLog. */
export class AuditRecorder implements ClassRecorder {
  readonly #log: AuditLog;
  readonly #logger: FastifyBaseLogger;

  constructor(log: AuditLog, logger: FastifyBaseLogger) {
    this.#log = log;
    this.#logger = logger;
  }

  /**
   * Append the event. The request being handled, if any, is acknowledged only once the entry is on
   * disk (Acknowledgement); a failed append is logged loudly, and that request is refused.
   */
  record(event: ClassEvent): void {
    const details: Record<string, string | number | boolean> = { ...event.details };
    if (event.actorRole) details.actorRole = event.actorRole;
    if (event.subject) details.target = this.#log.pseudonym(event.subject);
    const append = this.#log.append({
      actor: event.actor === 'server' ? { kind: 'system', name: 'server' } : { kind: 'user', id: event.actor },
      action: event.action,
      subject: `room:${event.room}`,
      details,
    });
    append.catch((error: unknown) => this.#logger.error({ err: error, action: event.action }, 'audit log append failed'));
    Acknowledgement.require(append);
    this.#logger.info({ audit: event.action, room: event.room }, 'class event');
  }
}
