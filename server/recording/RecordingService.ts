// The recordings of this server: starting them for rooms (the RecordingBackend rooms are given),
// listing them for playback and the audit, and deleting them — on request or when their retention
// ends — with proof: the data key is destroyed first (crypto-shredding), the files removed, and a
// deletion receipt (recording id, content hash, size, time, reason) appended to the audit log.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { RecordingConfig, RecordingConsentPolicy } from '../../config/index.js';
import type { AuditLog, AuditActor, AuditRecord } from '../../audit/log/index.js';
import type { RecordingSummaryData } from '../../protocol/index.js';
import type { ActiveRecording, RecordingBackend } from '../rooms/RecordingConsent.js';
import type { Peer } from '../rooms/Peer.js';
import type { RoomMedia } from '../../sfu/index.js';
import { SignallingError } from '../signalling/SignallingError.js';
import { RecordingStore, type RecordingManifest } from './RecordingStore.js';
import { RecordingStoreError } from './RecordingStoreError.js';
import { keyWrapperFor } from './crypto/keyWrapperFor.js';
import { KeyServiceError } from './crypto/KeyServiceError.js';
import { RecordingSession } from './RecordingSession.js';
import { EventsFile, EVENTS_TRACK } from './EventsFile.js';
import { sfuTrackTaps, type TrackTaps } from './trackRecorders.js';
import { segmentStarts } from './trackAlignment.js';
import { AnonymousRefusals } from './AnonymousRefusals.js';

const DAY_MS = 86_400_000;

/** What the service keeps about a recording in its manifest's `info`. */
export interface RecordingInfo {
  id: string;
  room: string;
  startedAt: number;
  expiresAt: number;
  retentionDays: number;
  policy: RecordingConsentPolicy;
  /** Whether the room's students may play it. */
  studentPlayback: boolean;
  /** Whether it is being recorded right now. */
  active: boolean;
  /** Which key-encryption key wraps its data key. */
  kekId: string;
  /** Peer ids whose tracks are in it. */
  recordedPeerIds: string[];
  manifest: RecordingManifest;
}

/** Why a recording was deleted. */
export type DeletionReason = 'retention expired' | 'requested by an instructor' | 'requested by an admin';

/**
 * The cluster's recording directory (ClusterNode): which node's disk holds a recording, so another
 * node can send its requests there. Neither call throws; a write the store refuses is retried there.
 */
export interface RecordingHolders {
  /** This node holds recording `id` (it started here). */
  recordingHeld(id: string): Promise<void>;
  /** Recording `id` is deleted here. */
  recordingReleased(id: string): Promise<void>;
}

/** Options of the service. */
export interface RecordingServiceOptions {
  config: RecordingConfig;
  auditLog: AuditLog;
  log: FastifyBaseLogger;
  /** How recorders tap the SFU; the SFU's own by default. */
  taps?: TrackTaps;
  /** The config's deployment.country, when it has one: a KMS key must be in it. */
  deploymentCountry?: string | undefined;
}

/** Recordings: the backend of rooms, the source of playback, and the sweeper's subject. */
export class RecordingService implements RecordingBackend {
  readonly policy: RecordingConsentPolicy;
  readonly #config: RecordingConfig;
  readonly #store: RecordingStore;
  readonly #events: EventsFile;
  readonly #audit: AuditLog;
  readonly #log: FastifyBaseLogger;
  readonly #taps: TrackTaps;
  readonly #active = new Map<string, RecordingSession>();
  readonly #anonymousRefusals: AnonymousRefusals;
  /** The cluster's directory of recordings, when this node is one of several (app.ts sets it). */
  holders: RecordingHolders | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping: Promise<unknown> | undefined;

  /**
   * Open the store in `config.dir`, data keys wrapped by the KEK `config.keyWrapping` selects (the
   * local key file beside the store, made on first start, or an in-country KMS key). Throws
   * ConfigError when the KMS key cannot be shown to be in the country.
   */
  static async open(options: RecordingServiceOptions): Promise<RecordingService> {
    const dir = resolve(options.config.dir);
    const store = await RecordingStore.open(dir, await keyWrapperFor(options.config, dir, options.deploymentCountry));
    return new RecordingService(options, store);
  }

  private constructor(options: RecordingServiceOptions, store: RecordingStore) {
    this.policy = options.config.consent;
    this.#config = options.config;
    this.#store = store;
    this.#events = new EventsFile(store);
    this.#audit = options.auditLog;
    this.#log = options.log.child({ component: 'recordings' });
    this.#anonymousRefusals = new AnonymousRefusals(options.auditLog, this.#log);
    this.#taps = options.taps ?? sfuTrackTaps({ keyFrameIntervalMs: options.config.keyframeIntervalSeconds * 1000 });
  }

  /** The store (for playback). */
  get store(): RecordingStore {
    return this.#store;
  }

  /** Refusals without a credential, audited per address-minute (for the routes). */
  get anonymousRefusals(): AnonymousRefusals {
    return this.#anonymousRefusals;
  }

  /** The events files (for playback). */
  get events(): EventsFile {
    return this.#events;
  }

  /** Start a recording of a room (RecordingBackend). */
  async begin(request: { room: string; media: () => RoomMedia; retentionDays: number | undefined; studentPlayback: boolean | undefined; by: Peer }): Promise<ActiveRecording> {
    const retentionDays = request.retentionDays ?? this.#config.retentionDays;
    if (retentionDays > this.#config.retentionDays) {
      throw new SignallingError('invalid_data', `startRecording: retentionDays: at most ${this.#config.retentionDays} on this server (it may only be shortened)`);
    }
    const id = randomUUID();
    const startedAt = Date.now();
    const expiresAt = startedAt + retentionDays * DAY_MS;
    try {
      await this.#store.create(id, { room: request.room, startedAt, expiresAt, retentionDays, policy: this.policy, studentPlayback: request.studentPlayback ?? this.#config.studentPlayback }, startedAt);
    } catch (error) {
      if (!(error instanceof KeyServiceError)) throw error;
      // Nothing is recorded without a wrapped data key; the instructor is told why, the log has the details.
      this.#log.error({ err: error, room: request.room }, 'recording could not start: the key service failed');
      throw new SignallingError('unavailable', `the recording could not start: its encryption key could not be made (${error.service} did not answer); nothing was recorded`);
    }
    const session = new RecordingSession({
      id,
      startedAt,
      expiresAt,
      media: request.media,
      store: this.#store,
      events: this.#events,
      taps: this.#taps,
      log: this.#log,
      onStopped: () => this.#active.delete(id),
      onRecorderError: (trackId, message) => {
        this.#audit
          .append({ actor: { kind: 'system', name: 'recorder' }, action: 'recording.recorderFailed', subject: `recording:${id}`, details: { track: trackId, message: message.slice(0, 300) } })
          .catch((error: unknown) => this.#log.error({ err: error }, 'audit append failed'));
      },
    });
    this.#active.set(id, session);
    await this.holders?.recordingHeld(id);
    return session;
  }

  /** Resolves once the recording's files are all closed (at once when it is not being recorded). */
  async settled(id: string): Promise<void> {
    await this.#active.get(id)?.stop('settled');
  }

  /** Every recording in the store, oldest first; unreadable ones are logged and skipped. */
  async list(): Promise<RecordingInfo[]> {
    const infos: RecordingInfo[] = [];
    for (const id of await this.#store.list()) {
      try {
        infos.push(await this.info(id));
      } catch (error) {
        this.#log.error({ err: error, recording: id }, 'recording manifest unreadable');
      }
    }
    return infos.sort((a, b) => a.startedAt - b.startedAt);
  }

  /** Whether this node's store holds recording `id` (in the cluster, another node may). */
  async holds(id: string): Promise<boolean> {
    try {
      await this.#store.manifest(id);
      return true;
    } catch (error) {
      if (error instanceof RecordingStoreError && (error.reason === 'not_found' || error.reason === 'invalid_id')) return false;
      // Here but unreadable: the route reports it as it does today, it is not sent elsewhere.
      return true;
    }
  }

  /** One recording; RecordingStoreError not_found when there is none. */
  async info(id: string): Promise<RecordingInfo> {
    const manifest = await this.#store.manifest(id);
    const info = manifest.info;
    const room = typeof info.room === 'string' ? info.room : '';
    const startedAt = typeof info.startedAt === 'number' ? info.startedAt : manifest.createdAt;
    // A manifest without its expiry is treated as expired: nothing is kept without a retention.
    const expiresAt = typeof info.expiresAt === 'number' ? info.expiresAt : startedAt;
    const media = manifest.segments.filter((s) => s.trackId !== EVENTS_TRACK);
    return {
      id,
      room,
      startedAt,
      expiresAt,
      retentionDays: typeof info.retentionDays === 'number' ? info.retentionDays : 0,
      policy: info.policy === 'inform' ? 'inform' : 'ask',
      studentPlayback: info.studentPlayback === true,
      active: this.#active.has(id),
      kekId: manifest.kekId,
      recordedPeerIds: [...new Set(media.map((s) => s.peerId))],
      manifest,
    };
  }

  /** The listing shape of the playback API. */
  async summary(id: string): Promise<RecordingSummaryData> {
    const info = await this.info(id);
    const events = await this.#events.read(id).catch(() => []);
    const started = events.filter((e) => e.type === 'trackStarted');
    const stopped = events.find((e) => e.type === 'stopped');
    const starts = segmentStarts(info.manifest.segments.filter((s) => s.trackId !== EVENTS_TRACK && s.complete), info.startedAt);
    return {
      id,
      room: info.room,
      startedAt: info.startedAt,
      stoppedAt: stopped ? info.startedAt + stopped.at : null,
      expiresAt: info.expiresAt,
      tracks: info.manifest.segments
        .filter((s) => s.trackId !== EVENTS_TRACK && s.complete)
        .map((s) => {
          const start = started.find((e) => e.track === s.trackId);
          return {
            id: s.segmentId,
            kind: s.kind,
            source: s.source,
            participant: start?.participant ?? 'participant',
            presenter: start?.presenter ?? false,
            contentType: `${s.kind}/${s.container === 'mkv' ? 'x-matroska' : 'webm'}`,
            size: this.#store.playbackSize(s),
            // On the sender's clock where its reports allow: a participant's audio and video in step.
            offsetMs: starts.get(s.segmentId)?.offsetMs ?? Math.round(s.startedAt - info.startedAt),
          };
        }),
    };
  }

  /**
   * Delete a recording and append its receipt: key destroyed first (any copy becomes unreadable),
   * then the files. Refused while it is being recorded.
   */
  async delete(id: string, reason: DeletionReason, actor: AuditActor, now = Date.now()): Promise<AuditRecord> {
    if (this.#active.has(id)) throw new RecordingStoreError('busy', `recording ${id} is still being recorded; stop it first`);
    const info = await this.info(id);
    await this.#store.destroyKey(id, now);
    const removed = await this.#store.delete(id);
    const receipt = await this.#audit.append({
      actor,
      action: 'recording.deleted',
      subject: `recording:${id}`,
      details: {
        recordingId: id,
        room: info.room,
        contentHash: removed.contentHash,
        size: removed.size,
        deletedAt: new Date(now).toISOString(),
        reason,
        kekId: info.kekId,
        keyDestroyed: true,
      },
    });
    await this.holders?.recordingReleased(id);
    this.#log.info({ recording: id, reason, size: removed.size }, 'recording deleted');
    return receipt;
  }

  /** Delete every recording whose retention has ended by `now`; returns their receipts. */
  async sweep(now = Date.now()): Promise<AuditRecord[]> {
    const receipts: AuditRecord[] = [];
    for (const info of await this.list()) {
      if (info.active || info.expiresAt > now) continue;
      try {
        receipts.push(await this.delete(info.id, 'retention expired', { kind: 'system', name: 'retention-sweeper' }, now));
      } catch (error) {
        this.#log.error({ err: error, recording: info.id }, 'expired recording could not be deleted');
      }
    }
    return receipts;
  }

  /** Sweep now and every `sweepIntervalSeconds`. */
  startSweeper(): void {
    const run = () => {
      this.#sweeping ??= this.sweep()
        .catch((error: unknown) => this.#log.error({ err: error }, 'retention sweep failed'))
        .finally(() => (this.#sweeping = undefined));
    };
    run();
    this.#sweeper = setInterval(run, this.#config.sweepIntervalSeconds * 1000);
    this.#sweeper.unref();
  }

  /** Stop the sweeper and every recording in progress. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.allSettled([...this.#active.values()].map((s) => s.stop('server shutting down')));
    await this.#sweeping;
    await this.#anonymousRefusals.close();
  }
}
