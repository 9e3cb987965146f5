// A seek index for a recorded WebM/Matroska segment. The recorder's ffmpeg writes to a pipe, so it
// cannot go back to write the Duration and the Cues (where each keyframe is): players then show no
// length and cannot seek. The index is built from the plaintext as it flows into the cipher (never
// on disk) and is a new head for the file: the original EBML header, a Segment of known size, a
// SeekHead, Info with the Duration, the original Tracks/Tags (with each track's DURATION tag), and
// Cues pointing at the clusters. The
// seekable file a player gets is that head followed by the original clusters, byte for byte, so
// the index is small (a few hundred bytes per hour) and the segment file is never rewritten.
//
// EBML is parsed and encoded by ts-ebml (its Decoder, encodeTag and number buffers); this class
// only decides which elements go where.
import ebml from 'ts-ebml';
import type { EBMLElementDetail } from 'ts-ebml';

const { Decoder, tools } = ebml;

/** What the index says about the seekable view of a segment (kept in the manifest). */
export interface SeekIndexInfo {
  /** Bytes of the head (stored encrypted beside the segment). */
  headSize: number;
  /** Plaintext offset of the first Cluster in the segment file. */
  bodyStart: number;
  /** Plaintext offset just past the last complete Cluster. */
  bodyEnd: number;
  /** Bytes of the seekable view: head + body. */
  size: number;
  /** Duration written into Info, ms. */
  durationMs: number;
  /** CuePoints written. */
  cues: number;
}

/** A finished index: the head bytes and what they describe. */
export interface SeekIndex {
  head: Buffer;
  info: SeekIndexInfo;
}

interface Cue {
  timeMs: number;
  track: number;
  clusterOffset: number;
  relative: number;
}

const ID = {
  segment: Buffer.from('18538067', 'hex'),
  seekHead: Buffer.from('114d9b74', 'hex'),
  seek: Buffer.from('4dbb', 'hex'),
  seekId: Buffer.from('53ab', 'hex'),
  seekPosition: Buffer.from('53ac', 'hex'),
  info: Buffer.from('1549a966', 'hex'),
  duration: Buffer.from('4489', 'hex'),
  tracks: Buffer.from('1654ae6b', 'hex'),
  tags: Buffer.from('1254c367', 'hex'),
  cues: Buffer.from('1c53bb6b', 'hex'),
  cuePoint: Buffer.from('bb', 'hex'),
  cueTime: Buffer.from('b3', 'hex'),
  cueTrackPositions: Buffer.from('b7', 'hex'),
  cueTrack: Buffer.from('f7', 'hex'),
  cueClusterPosition: Buffer.from('f1', 'hex'),
  cueRelativePosition: Buffer.from('f0', 'hex'),
  tag: Buffer.from('7373', 'hex'),
  targets: Buffer.from('63c0', 'hex'),
  tagTrackUid: Buffer.from('63c5', 'hex'),
  simpleTag: Buffer.from('67c8', 'hex'),
  tagName: Buffer.from('45a3', 'hex'),
  tagString: Buffer.from('4487', 'hex'),
};
/** Level-1 elements before the first cluster that the head keeps as they were. */
const KEPT = new Set(['Tracks', 'Tags', 'Chapters', 'Attachments']);
/** Bounds what the head buffers before the first cluster (a real header is a few KB). */
const MAX_PREFIX_BYTES = 1024 * 1024;

/** Builds a segment's seek index from its plaintext, fed chunk by chunk as it is written. */
export class SeekIndexBuilder {
  readonly #decoder = new Decoder();
  #prefix: Buffer[] = [];
  #prefixBytes = 0;
  #failure: string | undefined;
  #segmentStart: number | undefined;
  #segmentDataStart: number | undefined;
  #info: EBMLElementDetail | undefined;
  #durationElement: EBMLElementDetail | undefined;
  readonly #kept: EBMLElementDetail[] = [];
  #timestampScale = 1_000_000;
  #bodyStart: number | undefined;
  #bodyEnd: number | undefined;
  #clusterStart = 0;
  #clusterDataStart = 0;
  #clusterTime = 0;
  #clusterHasCue = false;
  readonly #trackTypes = new Map<number, number>();
  /** Per track number: its TrackUID element (its bytes are copied into the track's DURATION tag). */
  readonly #trackUids = new Map<number, EBMLElementDetail>();
  #trackNumber = -1;
  #trackType = -1;
  #trackUid: EBMLElementDetail | undefined;
  /** Per track: where its last block ends, ms. */
  readonly #trackEnd = new Map<number, number>();
  #lastTrack = -1;
  /** Per track: the time of its last block, ms. */
  readonly #lastBlock = new Map<number, number>();
  /** Time of the last block of any track, ms (a BlockDuration after it gives its end). */
  #lastTime = 0;
  #endMs = 0;
  readonly #cues: Cue[] = [];

  /** Feed the next plaintext bytes. Never throws: a stream it cannot index just gets no index. */
  push(chunk: Buffer): void {
    if (this.#failure) return;
    try {
      if (this.#bodyStart === undefined) {
        this.#prefix.push(chunk);
        this.#prefixBytes += chunk.length;
        if (this.#prefixBytes > MAX_PREFIX_BYTES) throw new Error('no cluster within the first MiB');
      }
      // decode() takes an ArrayBuffer (and copies what it is given anyway).
      for (const element of this.#decoder.decode(new Uint8Array(chunk).buffer)) this.#element(element);
    } catch (error) {
      this.#failure = (error as Error).message;
      this.#prefix = [];
    }
  }

  /** The index, or why there is none (not Matroska, no complete cluster, ...). */
  finish(): SeekIndex | { error: string } {
    if (this.#failure) return { error: this.#failure };
    if (this.#segmentDataStart === undefined || this.#segmentStart === undefined) return { error: 'no Segment element' };
    if (!this.#info) return { error: 'no Info element' };
    if (this.#bodyStart === undefined || this.#bodyEnd === undefined || this.#bodyEnd <= this.#bodyStart) return { error: 'no complete Cluster' };
    const prefix = Buffer.concat(this.#prefix);
    const slice = (e: EBMLElementDetail): Buffer => prefix.subarray(e.tagStart, e.dataEnd);
    const durationMs = this.#endMs;
    // Info as it was, its Duration (if ffmpeg wrote a placeholder) replaced by the real one.
    const info = this.#info;
    const infoData: Buffer[] = [prefix.subarray(info.dataStart, this.#durationElement?.tagStart ?? info.dataEnd)];
    if (this.#durationElement) infoData.push(prefix.subarray(this.#durationElement.dataEnd, info.dataEnd));
    const durationTicks = (durationMs * 1_000_000) / this.#timestampScale;
    infoData.push(tools.encodeTag(ID.duration, tools.createFloatBuffer(durationTicks, 8)));
    const infoElement = tools.encodeTag(ID.info, Buffer.concat(infoData));
    // Each track's length as a DURATION tag (what ffmpeg writes when it can seek back; players and
    // ffprobe read a Matroska stream's duration from it), added to the Tags or in Tags of their own.
    const durations = this.#durationTags(prefix);
    const kept = this.#kept.map((e) => (e.name === 'Tags' && durations.length > 0 ? tools.encodeTag(ID.tags, Buffer.concat([prefix.subarray(e.dataStart, e.dataEnd), ...durations])) : slice(e)));
    if (durations.length > 0 && !this.#kept.some((e) => e.name === 'Tags')) kept.push(tools.encodeTag(ID.tags, Buffer.concat(durations)));
    const header = prefix.subarray(0, this.#segmentStart); // the EBML header, as written
    const bodySize = this.#bodyEnd - this.#bodyStart;
    // Positions are fixed-width (8-byte) integers, so the head's size does not depend on them.
    const seekHeadSize = this.#seekHead([0, 0, 0], kept).length;
    const cuesAt = seekHeadSize + infoElement.length + kept.reduce((n, b) => n + b.length, 0);
    const cuesSize = this.#cuesElement(0).length;
    const clustersAt = cuesAt + cuesSize;
    const cues = this.#cuesElement(clustersAt);
    const seekHead = this.#seekHead([seekHeadSize, seekHeadSize + infoElement.length, cuesAt], kept);
    const inside = Buffer.concat([seekHead, infoElement, ...kept, cues]);
    const segmentHeader = Buffer.concat([ID.segment, sizeVint(inside.length + bodySize)]);
    const head = Buffer.concat([header, segmentHeader, inside]);
    return {
      head,
      info: { headSize: head.length, bodyStart: this.#bodyStart, bodyEnd: this.#bodyEnd, size: head.length + bodySize, durationMs, cues: this.#cues.length },
    };
  }

  /** One Tag per track with a known UID: Targets/TagTrackUID, SimpleTag DURATION "HH:MM:SS.nnnnnnnnn". */
  #durationTags(prefix: Buffer): Buffer[] {
    const tags: Buffer[] = [];
    for (const [track, uid] of this.#trackUids) {
      const endMs = this.#trackEnd.get(track);
      if (endMs === undefined) continue;
      const targets = tools.encodeTag(ID.targets, tools.encodeTag(ID.tagTrackUid, prefix.subarray(uid.dataStart, uid.dataEnd)));
      const simple = tools.encodeTag(ID.simpleTag, Buffer.concat([tools.encodeTag(ID.tagName, Buffer.from('DURATION')), tools.encodeTag(ID.tagString, Buffer.from(clockTime(endMs)))]));
      tags.push(tools.encodeTag(ID.tag, Buffer.concat([targets, simple])));
    }
    return tags;
  }

  /** SeekHead: Info, the first kept element (Tracks), Cues. `at` = [info, tracks, cues] positions. */
  #seekHead(at: [number, number, number], kept: Buffer[]): Buffer {
    const [infoAt, keptAt, cuesAt] = at;
    const seek = (id: Buffer, position: number) =>
      tools.encodeTag(ID.seek, Buffer.concat([tools.encodeTag(ID.seekId, id), tools.encodeTag(ID.seekPosition, uint64(position))]));
    const entries = [seek(ID.info, infoAt), seek(ID.cues, cuesAt)];
    if (this.#kept[0] && kept[0]) entries.push(seek(Buffer.from(this.#kept[0].EBML_ID, 'hex'), keptAt));
    return tools.encodeTag(ID.seekHead, Buffer.concat(entries));
  }

  /** Cues with cluster positions relative to the Segment's data, the clusters starting at `clustersAt`. */
  #cuesElement(clustersAt: number): Buffer {
    const points = this.#cues.map((cue) => {
      const ticks = Math.round((cue.timeMs * 1_000_000) / this.#timestampScale);
      const positions = tools.encodeTag(
        ID.cueTrackPositions,
        Buffer.concat([
          tools.encodeTag(ID.cueTrack, tools.createUIntBuffer(cue.track)),
          tools.encodeTag(ID.cueClusterPosition, uint64(clustersAt + cue.clusterOffset - this.#bodyStart!)),
          tools.encodeTag(ID.cueRelativePosition, uint64(cue.relative)),
        ]),
      );
      return tools.encodeTag(ID.cuePoint, Buffer.concat([tools.encodeTag(ID.cueTime, uint64(ticks)), positions]));
    });
    return tools.encodeTag(ID.cues, Buffer.concat(points));
  }

  #element(e: EBMLElementDetail): void {
    const start = e.type === 'm' && e.isEnd;
    if (e.name === 'Segment' && !start) {
      if (this.#segmentDataStart !== undefined) throw new Error('more than one Segment');
      this.#segmentStart = e.tagStart;
      this.#segmentDataStart = e.dataStart;
      return;
    }
    if (e.name === 'Cluster') {
      if (e.type !== 'm') return;
      if (!e.isEnd) {
        if (e.unknownSize) throw new Error('a Cluster of unknown size');
        if (this.#bodyStart === undefined) this.#bodyStart = e.tagStart;
        this.#clusterStart = e.tagStart;
        this.#clusterDataStart = e.dataStart;
        this.#clusterHasCue = false;
      } else this.#bodyEnd = e.dataEnd;
      return;
    }
    if (this.#bodyStart === undefined && e.level === 1 && e.type === 'm' && !e.isEnd) {
      if (e.unknownSize && e.name !== 'Segment') throw new Error(`${e.name} of unknown size`);
      if (e.name === 'Info') this.#info = e;
      else if (KEPT.has(e.name)) this.#kept.push(e);
      return;
    }
    switch (e.name) {
      case 'TimestampScale':
        this.#timestampScale = numberOf(e);
        return;
      case 'Duration':
        if (this.#info && e.tagStart >= this.#info.dataStart && e.dataEnd <= this.#info.dataEnd) this.#durationElement = e;
        return;
      case 'TrackEntry':
        if (e.type === 'm' && e.isEnd) {
          this.#trackTypes.set(this.#trackNumber, this.#trackType);
          if (this.#trackUid) this.#trackUids.set(this.#trackNumber, this.#trackUid);
        } else this.#trackUid = undefined;
        return;
      case 'TrackUID':
        if (this.#bodyStart === undefined) this.#trackUid = e;
        return;
      case 'TrackNumber':
        this.#trackNumber = numberOf(e);
        return;
      case 'TrackType':
        this.#trackType = numberOf(e);
        return;
      case 'Timestamp':
        this.#clusterTime = numberOf(e);
        return;
      case 'BlockDuration': {
        const end = this.#lastTime + this.#ms(numberOf(e));
        this.#endMs = Math.max(this.#endMs, end);
        this.#trackEnd.set(this.#lastTrack, Math.max(this.#trackEnd.get(this.#lastTrack) ?? 0, end));
        return;
      }
      case 'SimpleBlock':
      case 'Block':
        this.#block(e, e.name === 'SimpleBlock');
        return;
      default:
    }
  }

  #block(e: EBMLElementDetail, simple: boolean): void {
    if (!('data' in e)) return;
    const block = tools.ebmlBlock(e.data);
    const time = this.#ms(this.#clusterTime + block.timecode);
    const track = block.trackNumber;
    // A block lasts until its track's next one; the last one, as long as the one before it.
    const previous = this.#lastBlock.get(track);
    this.#lastBlock.set(track, time);
    this.#lastTime = time;
    this.#lastTrack = track;
    const end = time + (previous === undefined ? 0 : Math.max(0, time - previous));
    this.#endMs = Math.max(this.#endMs, end);
    this.#trackEnd.set(track, Math.max(this.#trackEnd.get(track) ?? 0, end));
    const video = this.#trackTypes.get(track) === 1;
    const hasVideo = [...this.#trackTypes.values()].includes(1);
    // A cue at every video keyframe (a SimpleBlock's key flag); with no video, one per cluster.
    const cue = video ? simple && block.keyframe : !hasVideo && !this.#clusterHasCue;
    if (cue) {
      this.#clusterHasCue = true;
      this.#cues.push({ timeMs: time, track, clusterOffset: this.#clusterStart, relative: e.tagStart - this.#clusterDataStart });
    }
  }

  #ms(ticks: number): number {
    return (ticks * this.#timestampScale) / 1_000_000;
  }
}

/** The value of a number element (NaN for any other). */
function numberOf(e: EBMLElementDetail): number {
  return 'value' in e && typeof e.value === 'number' ? e.value : Number.NaN;
}

/** ms as Matroska's DURATION tag writes it: HH:MM:SS.nnnnnnnnn. */
function clockTime(ms: number): string {
  const ns = BigInt(Math.round(ms * 1_000_000));
  const second = 1_000_000_000n;
  const pad = (n: bigint, width: number) => n.toString().padStart(width, '0');
  return `${pad(ns / (3600n * second), 2)}:${pad((ns / (60n * second)) % 60n, 2)}:${pad((ns / second) % 60n, 2)}.${pad(ns % second, 9)}`;
}

/** An unsigned integer as 8 bytes (EBML allows any width up to 8). */
function uint64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(Math.max(0, Math.round(value))));
  return buffer;
}

/** An element size as an 8-byte vint (0x01 then 7 bytes), so it can be any size a file has. */
function sizeVint(size: number): Buffer {
  const buffer = uint64(size);
  buffer[0] = 0x01;
  return buffer;
}
