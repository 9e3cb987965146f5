// One recording in progress: a recorder per consented track, each segment piped straight into the
// encrypted store, and the events file (joins, leaves, speaker, screen share, consent) written the
// same way, line by line, so neither ever exists as plaintext on disk.
//
// Participants appear in the recording under labels ("participant 1", ...) given in order of
// appearance; names never enter it. The peer id (random per join) ties tracks to consent records.
import { PassThrough } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { RoomMedia, Track as MediaTrack } from '../../sfu/index.js';
import type { RecordedSegment } from '../../sfu/recorder/types.js';
import type { RecordingEventData } from '../../protocol/index.js';
import type { ActiveRecording, RecordingNote } from '../rooms/RecordingConsent.js';
import type { Peer } from '../rooms/Peer.js';
import type { RecordingStore } from './RecordingStore.js';
import type { TrackTaps, TrackRecorderHandle } from './trackRecorders.js';
import type { EventsFile } from './EventsFile.js';

/** What a session is told at start. */
export interface RecordingSessionOptions {
  id: string;
  startedAt: number;
  expiresAt: number;
  media: () => RoomMedia;
  store: RecordingStore;
  events: EventsFile;
  taps: TrackTaps;
  log: FastifyBaseLogger;
  /** A recorder failed: reported in the audit log by the service. */
  onRecorderError: (trackId: string, message: string) => void;
  /** Every file of the recording is closed. */
  onStopped: () => void;
  now?: () => number;
}

interface RecordedTrack {
  recorder: Promise<TrackRecorderHandle | undefined>;
  producerId: string;
}

/** An ActiveRecording writing into the RecordingStore. */
export class RecordingSession implements ActiveRecording {
  readonly id: string;
  readonly startedAt: number;
  readonly expiresAt: number;
  readonly #options: RecordingSessionOptions;
  readonly #now: () => number;
  /** By track id (`${peerId}:${source}`). */
  readonly #tracks = new Map<string, RecordedTrack>();
  readonly #labels = new Map<string, string>();
  readonly #writes = new Set<Promise<unknown>>();
  readonly #eventsStream = new PassThrough();
  readonly #eventsWritten: Promise<unknown>;
  #stopped = false;
  #stopping: Promise<void> | undefined;

  constructor(options: RecordingSessionOptions) {
    this.id = options.id;
    this.startedAt = options.startedAt;
    this.expiresAt = options.expiresAt;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#eventsWritten = options.events.write(options.id, this.#eventsStream).catch((error: unknown) => {
      options.log.error({ err: error, recording: options.id }, 'recording events file could not be written');
      options.onRecorderError('events', (error as Error).message);
    });
    this.#event({ type: 'started' });
  }

  /** Track ids being recorded now. */
  get trackIds(): string[] {
    return [...this.#tracks.keys()];
  }

  capture(producer: MediaTrack, peer: Peer): void {
    if (this.#stopped) return;
    const trackId = `${peer.id}:${producer.source}`;
    const existing = this.#tracks.get(trackId);
    if (existing?.producerId === producer.id) return;
    if (existing) {
      // The same participant's source on a new producer (a worker restart moved the room): the
      // recorder continues in a new segment.
      existing.producerId = producer.id;
      const media = this.#options.media();
      this.#track(
        existing.recorder.then(async (recorder) => {
          if (recorder) await this.#options.taps.attach(recorder, media, producer);
        }).catch((error: unknown) => this.#recorderError(trackId, `could not continue after the media moved: ${(error as Error).message}`)),
      );
      return;
    }
    const track: RecordedTrack = { producerId: producer.id, recorder: this.#start(trackId, producer, peer) };
    this.#tracks.set(trackId, track);
  }

  release(producerId: string): void {
    for (const [trackId, track] of this.#tracks) {
      if (track.producerId !== producerId) continue;
      this.#tracks.delete(trackId);
      this.#event({ type: 'trackEnded', track: trackId });
      this.#track(track.recorder.then((recorder) => recorder?.stop()));
    }
  }

  note(note: RecordingNote): void {
    const participant = this.#label(note.peer);
    if (note.type === 'consent') this.#event({ type: 'consent', participant, consent: note.consent });
    else this.#event({ type: note.type, participant });
  }

  stop(reason: string): Promise<void> {
    this.#stopping ??= this.#stop(reason).finally(() => this.#options.onStopped());
    return this.#stopping;
  }

  async #stop(reason: string): Promise<void> {
    for (const track of [...this.#tracks.values()]) this.release(track.producerId);
    this.#stopped = true;
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
    this.#event({ type: 'stopped' });
    this.#options.log.info({ recording: this.id, reason }, 'recording stopped');
    this.#eventsStream.end();
    await this.#eventsWritten;
  }

  async #start(trackId: string, producer: MediaTrack, peer: Peer): Promise<TrackRecorderHandle | undefined> {
    const { store, log } = this.#options;
    this.#event({ type: 'trackStarted', participant: this.#label(peer), track: trackId, presenter: peer.can('record') || producer.source === 'screen' });
    let recorder: TrackRecorderHandle;
    try {
      recorder = await this.#options.taps.start(this.#options.media(), producer);
    } catch (error) {
      this.#recorderError(trackId, (error as Error).message);
      return undefined;
    }
    recorder.on('segment', (segment: RecordedSegment) => {
      const written = store.writeSegment(this.id, segment.meta, segment.stream).then(async (stored) => {
        const end = await segment.done;
        await store.recordSegmentEnd(this.id, stored.segmentId, end);
      });
      this.#track(written.catch((error: unknown) => this.#recorderError(trackId, `segment not stored: ${(error as Error).message}`)));
    });
    recorder.on('error', (error) => this.#recorderError(trackId, error.message));
    recorder.once('end', () => log.debug({ recording: this.id, track: trackId }, 'track recorder ended'));
    // Declined or left while the recorder was starting: stop it at once.
    if (this.#stopped || this.#tracks.get(trackId)?.producerId !== producer.id) await recorder.stop();
    return recorder;
  }

  #recorderError(trackId: string, message: string): void {
    this.#options.log.error({ recording: this.id, track: trackId, message }, 'recorder failed');
    this.#event({ type: 'recorderError', track: trackId });
    this.#options.onRecorderError(trackId, message);
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.#writes.delete(tracked));
    this.#writes.add(tracked);
  }

  #label(peer: Peer): string {
    let label = this.#labels.get(peer.id);
    if (!label) {
      label = `participant ${this.#labels.size + 1}`;
      this.#labels.set(peer.id, label);
    }
    return label;
  }

  #event(event: Omit<RecordingEventData, 'at'>): void {
    if (this.#eventsStream.writableEnded) return;
    this.#eventsStream.write(`${JSON.stringify({ at: Math.max(0, this.#now() - this.startedAt), ...event })}\n`);
  }
}
