// Recording consent of one class, enforced here and nowhere else: the room asks this class which
// tracks may be recorded, and only those of participants who agreed ever reach the recorder.
//
// Policy `ask`: a participant is recorded only after they say yes. Policy `inform` (where the
// university's rules allow recording on notice): a participant is recorded once the notice has been
// sent to their browser, unless and until they decline. In both, whoever starts the recording
// consents by starting it, a decline is honoured at any moment (their tracks stop at once), and a
// participant who declines stays in the class. Late joiners are asked when they become ready.
// Every decision goes into the audit log as `recording.consent`, with the recording id.
import type { RoomMedia, Track } from '../../sfu/index.js';
import type { RecordingConsentPolicy } from '../../config/index.js';
import type { ConsentStatusValue, RecordingStateData } from '../../protocol/index.js';
import type { Peer } from './Peer.js';
import type { ClassEvent } from './ClassRecord.js';
import { SignallingError } from '../signalling/SignallingError.js';

/** What happened in a class while it was recorded, for the recording's events file. */
export type RecordingNote =
  | { type: 'joined' | 'left' | 'speaker' | 'screenShareStarted' | 'screenShareStopped'; peer: Peer }
  | { type: 'consent'; peer: Peer; consent: ConsentStatusValue };

/** A recording in progress, as the room sees it (implemented in server/recording). */
export interface ActiveRecording {
  /** Random id (a UUID). */
  readonly id: string;
  /** Wall-clock ms when it started. */
  readonly startedAt: number;
  /** Wall-clock ms after which it is deleted. */
  readonly expiresAt: number;
  /** Record this track (from now on); a second call for the same producer does nothing. */
  capture(producer: Track, peer: Peer): void;
  /** Stop recording this track (its sender declined or left). */
  release(producerId: string): void;
  /** Append to the events file. */
  note(note: RecordingNote): void;
  /** Stop every track and close the files. */
  stop(reason: string): Promise<void>;
}

/** Where rooms get recordings from (server/recording's RecordingService). */
export interface RecordingBackend {
  /** Consent policy of this server. */
  readonly policy: RecordingConsentPolicy;
  /** Start a recording of `room` on its current media; refuses a retention longer than the server's. */
  begin(request: { room: string; media: () => RoomMedia; retentionDays: number | undefined; studentPlayback: boolean | undefined; by: Peer }): Promise<ActiveRecording>;
}

/** What RecordingConsent needs from its room. */
export interface ConsentHost {
  readonly name: string;
  admitted(): Peer[];
  media(): RoomMedia;
  record(event: Omit<ClassEvent, 'room'>): void;
  failed(error: unknown, what: string): void;
}

/** Recording state and consent of one room. */
export class RecordingConsent {
  readonly #host: ConsentHost;
  readonly #backend: RecordingBackend | undefined;
  #active: ActiveRecording | undefined;
  #starting = false;
  /** Standing of each participant in the current recording, by peer id. */
  readonly #status = new Map<string, ConsentStatusValue>();

  constructor(host: ConsentHost, backend: RecordingBackend | undefined) {
    this.#host = host;
    this.#backend = backend;
  }

  /** Whether a recording is running. */
  get recording(): boolean {
    return this.#active !== undefined;
  }

  /** Peer ids whose tracks are being recorded. */
  recordedPeerIds(): string[] {
    if (!this.#active) return [];
    return this.#host.admitted().filter((p) => this.#recorded(p)).map((p) => p.id);
  }

  /** Start recording: everyone is told at once; `by` consents by starting it. */
  async start(by: Peer, options: { retentionDays?: number | undefined; studentPlayback?: boolean | undefined }): Promise<ActiveRecording> {
    if (!this.#backend) throw new SignallingError('unavailable', 'recording is not available on this server');
    if (this.#active || this.#starting) throw new SignallingError('conflict', 'this class is already being recorded');
    this.#starting = true;
    let active: ActiveRecording;
    try {
      active = await this.#backend.begin({ room: this.#host.name, media: () => this.#host.media(), retentionDays: options.retentionDays, studentPlayback: options.studentPlayback, by });
    } finally {
      this.#starting = false;
    }
    this.#active = active;
    this.#status.clear();
    this.#host.record({
      action: 'recording.started',
      actor: by.identity.subject,
      actorRole: by.role,
      details: { recordingId: active.id, policy: this.#backend.policy, expiresAt: new Date(active.expiresAt).toISOString() },
    });
    const initial: ConsentStatusValue = this.#backend.policy === 'ask' ? 'pending' : 'informed';
    for (const peer of this.#host.admitted()) {
      active.note({ type: 'joined', peer });
      if (peer === by) this.#decide(peer, 'consented', 'started the recording');
      else if (peer.ready) this.#decide(peer, initial, 'notice sent');
    }
    this.#broadcast();
    return active;
  }

  /**
   * Stop recording: from this moment no track is captured and everyone is told. The files are
   * closed in the background (a muxer that never got a packet may take seconds to give up), so
   * the instructor is not kept waiting; the recording cannot be deleted until they are.
   */
  stop(by: Peer | 'server', reason: string): string {
    const active = this.#active;
    if (!active) throw new SignallingError('conflict', 'this class is not being recorded');
    this.#active = undefined;
    this.#status.clear();
    this.#broadcast();
    this.#host.record({
      action: 'recording.stopped',
      actor: by === 'server' ? 'server' : by.identity.subject,
      ...(by === 'server' ? {} : { actorRole: by.role }),
      details: { recordingId: active.id, reason },
    });
    active.stop(reason).catch((error: unknown) => this.#host.failed(error, 'closing the recording files'));
    return active.id;
  }

  /** A participant's answer to the notice. */
  answer(peer: Peer, consent: boolean): RecordingStateData {
    if (!this.#active) throw new SignallingError('conflict', 'this class is not being recorded');
    this.#decide(peer, consent ? 'consented' : 'declined', 'answered');
    this.#broadcast();
    return this.state(peer);
  }

  /** A participant became ready: a late joiner is asked (or informed) now. */
  greet(peer: Peer): void {
    const active = this.#active;
    if (!active || !this.#backend) {
      peer.notify('recordingState', this.state(peer));
      return;
    }
    active.note({ type: 'joined', peer });
    if (!this.#status.has(peer.id)) {
      this.#decide(peer, this.#backend.policy === 'ask' ? 'pending' : 'informed', 'notice sent on entry');
      this.#broadcast();
    } else peer.notify('recordingState', this.state(peer));
  }

  /** A participant sent a new track: recorded only if they are. */
  trackAdded(peer: Peer, producer: Track): void {
    const active = this.#active;
    if (!active) return;
    if (producer.source === 'screen') active.note({ type: 'screenShareStarted', peer });
    if (this.#recorded(peer)) active.capture(producer, peer);
  }

  /** A participant's track ended. */
  trackClosed(peer: Peer, producer: Track): void {
    const active = this.#active;
    if (!active) return;
    if (producer.source === 'screen') active.note({ type: 'screenShareStopped', peer });
    active.release(producer.id);
  }

  /** The dominant speaker changed. */
  speaker(peer: Peer | undefined): void {
    if (this.#active && peer && this.#recorded(peer)) this.#active.note({ type: 'speaker', peer });
  }

  /** A participant left: their tracks stop and they drop out of the list. */
  left(peer: Peer): void {
    const active = this.#active;
    if (!active || !this.#status.has(peer.id)) return;
    for (const producer of peer.media.tracks.values()) active.release(producer.id);
    this.#status.delete(peer.id);
    active.note({ type: 'left', peer });
    this.#broadcast();
  }

  /** What `peer` is shown. */
  state(peer: Peer): RecordingStateData {
    const active = this.#active;
    return {
      recording: active !== undefined,
      recordingId: active?.id ?? null,
      startedAt: active?.startedAt ?? null,
      policy: this.#backend?.policy ?? 'ask',
      recordedPeerIds: this.recordedPeerIds(),
      myConsent: active ? (this.#status.get(peer.id) ?? 'pending') : null,
    };
  }

  /** The room is closing: stop the recording, if any. */
  close(): void {
    if (this.#active) this.stop('server', 'room closed');
  }

  #recorded(peer: Peer): boolean {
    const status = this.#status.get(peer.id);
    return status === 'consented' || status === 'informed';
  }

  /** Set a participant's standing, record it, and start or stop their tracks to match. */
  #decide(peer: Peer, status: ConsentStatusValue, how: string): void {
    const active = this.#active!;
    const was = this.#recorded(peer);
    if (this.#status.get(peer.id) === status) return;
    this.#status.set(peer.id, status);
    this.#host.record({
      action: 'recording.consent',
      actor: peer.identity.subject,
      actorRole: peer.role,
      details: { recordingId: active.id, peerId: peer.id, decision: status, how },
    });
    active.note({ type: 'consent', peer, consent: status });
    const now = this.#recorded(peer);
    if (now && !was) for (const producer of peer.media.tracks.values()) active.capture(producer, peer);
    if (was && !now) for (const producer of peer.media.tracks.values()) active.release(producer.id);
  }

  #broadcast(): void {
    for (const peer of this.#host.admitted()) if (peer.ready) peer.notify('recordingState', this.state(peer));
  }
}
