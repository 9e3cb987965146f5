// A recording's events file (one JSON line per event, RecordingEvent in protocol/recording.ts),
// kept in the encrypted store beside the media so it is never plaintext on disk either.
import type { Readable } from 'node:stream';
import { Value } from '@sinclair/typebox/value';
import { RecordingEvent, type RecordingEventData } from '../../protocol/index.js';
import type { SegmentMeta } from '../../sfu/recorder/types.js';
import type { RecordingStore } from './RecordingStore.js';

/** Track id of the events file in a recording's manifest. */
export const EVENTS_TRACK = 'events';

/** Writes and reads events files through the store. */
export class EventsFile {
  readonly #store: RecordingStore;

  constructor(store: RecordingStore) {
    this.#store = store;
  }

  /** Encrypt `lines` into the recording as they come; resolves when the stream ended. */
  async write(recordingId: string, lines: Readable): Promise<void> {
    // The store has one kind of entry, a segment; the events file is one whose track id says so.
    // (kind/source/codec name no media: nothing but EventsFile reads a segment of EVENTS_TRACK.)
    const meta: SegmentMeta = {
      trackId: EVENTS_TRACK,
      peerId: 'server',
      kind: 'audio',
      source: 'microphone',
      codec: 'application/x-lectern-events+jsonl',
      container: 'webm',
      index: 0,
      producerId: 'none',
      startedAt: Date.now(),
    };
    await this.#store.writeSegment(recordingId, meta, lines);
  }

  /** The events of a recording, decrypted; lines that do not match the schema are refused. */
  async read(recordingId: string): Promise<RecordingEventData[]> {
    const manifest = await this.#store.manifest(recordingId);
    const segment = manifest.segments.find((s) => s.trackId === EVENTS_TRACK && s.complete);
    if (!segment) return [];
    const { stream } = await this.#store.openSegment(recordingId, segment.segmentId);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line, i) => {
        const event: unknown = JSON.parse(line);
        if (!Value.Check(RecordingEvent, event)) throw new Error(`events file of ${recordingId}, line ${i + 1}: not a RecordingEvent`);
        return event;
      });
  }
}
