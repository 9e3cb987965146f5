// Recordings at rest: the chunked AES-256-GCM format, the local KEK file and the store.
import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingStore } from '../../server/recording/RecordingStore.js';
import { LocalKeyFile, KEK_FILE } from '../../server/recording/crypto/LocalKeyFile.js';
import { CHUNK_OVERHEAD, HEADER_BYTES } from '../../server/recording/crypto/chunkFormat.js';
import type { SegmentMeta } from '../../sfu/recorder/types.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-rec-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const CHUNK = 1024;
const meta: SegmentMeta = {
  trackId: 'ada:camera', peerId: 'ada', kind: 'video', source: 'camera', codec: 'video/VP8',
  container: 'webm', index: 0, producerId: 'p1', startedAt: 1_700_000_000_000,
};

/** A store with a small chunk size (many chunks from little data) and one recording of `plain`. */
async function storeWith(plain: Buffer, pieces = 7) {
  const dir = await tempDir();
  const store = await RecordingStore.open(join(dir, 'recordings'), await LocalKeyFile.open(dir), { chunkSize: CHUNK });
  await store.create('rec1', { roomName: 'physics' });
  // Odd-sized writes, as a muxer's pipe delivers them.
  const parts: Buffer[] = [];
  for (let at = 0; at < plain.length; ) {
    const size = Math.min(plain.length - at, 1 + ((at * 31) % (CHUNK * 2)) + pieces);
    parts.push(plain.subarray(at, at + size));
    at += size;
  }
  const segment = await store.writeSegment('rec1', meta, Readable.from(parts));
  const file = join(dir, 'recordings', 'rec1', 'segments', segment.file);
  return { dir, store, segment, file };
}

async function readAll(store: RecordingStore, range?: { start: number; end: number }): Promise<Buffer> {
  const { stream } = await store.openSegment('rec1', 'seg-0001', range);
  return buffer(stream);
}

describe('recording encryption at rest', () => {
  it('round-trips exactly, with sizes and the ciphertext hash in the manifest', async () => {
    for (const length of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 10 * CHUNK + 517]) {
      const plain = randomBytes(length);
      const { store, segment, file } = await storeWith(plain);
      expect((await readAll(store)).equals(plain)).toBe(true);
      const onDisk = await readFile(file);
      expect(segment).toMatchObject({ complete: true, plaintextSize: length, ciphertextSize: onDisk.length });
      expect(segment.sha256).toBe(createHash('sha256').update(onDisk).digest('hex'));
      expect(onDisk.length).toBe(HEADER_BYTES + length + Math.max(1, Math.ceil(length / CHUNK)) * CHUNK_OVERHEAD);
      if (length >= 16) expect(onDisk.includes(plain.subarray(0, 16))).toBe(false);
      expect((await store.manifest('rec1')).segments).toEqual([segment]);
    }
  });

  it('decrypts any byte range, reading only the chunks it covers', async () => {
    const plain = randomBytes(5 * CHUNK + 300);
    const { store } = await storeWith(plain);
    for (const [start, end] of [[0, 0], [0, CHUNK - 1], [CHUNK - 1, CHUNK], [2 * CHUNK + 5, 4 * CHUNK + 9], [5 * CHUNK, 5 * CHUNK + 299], [17, 17], [0, plain.length - 1]] as const) {
      expect((await readAll(store, { start, end })).equals(plain.subarray(start, end + 1))).toBe(true);
    }
    await expect(store.openSegment('rec1', 'seg-0001', { start: 10, end: plain.length })).rejects.toThrow(/outside/);
  });

  it('a range read does not touch chunks outside the range: a damaged distant chunk does not stop it', async () => {
    const plain = randomBytes(6 * CHUNK);
    const { store, file } = await storeWith(plain);
    await flipByte(file, HEADER_BYTES + 4 * (CHUNK + CHUNK_OVERHEAD) + 40); // inside chunk 4
    expect((await readAll(store, { start: CHUNK, end: 2 * CHUNK - 1 })).equals(plain.subarray(CHUNK, 2 * CHUNK))).toBe(true);
    await expect(readAll(store, { start: 3 * CHUNK, end: 5 * CHUNK })).rejects.toThrow(/chunk 4 failed authentication/);
  });

  it('detects a tampered chunk', async () => {
    const { store, file } = await storeWith(randomBytes(4 * CHUNK));
    await flipByte(file, HEADER_BYTES + CHUNK + CHUNK_OVERHEAD + 100); // chunk 1's ciphertext
    await expect(readAll(store)).rejects.toThrow(/chunk 1 failed authentication/);
  });

  it('detects swapped (reordered) chunks', async () => {
    const { store, file } = await storeWith(randomBytes(4 * CHUNK));
    const bytes = await readFile(file);
    const sealed = CHUNK + CHUNK_OVERHEAD;
    const a = Buffer.from(bytes.subarray(HEADER_BYTES, HEADER_BYTES + sealed));
    bytes.copy(bytes, HEADER_BYTES, HEADER_BYTES + sealed, HEADER_BYTES + 2 * sealed);
    a.copy(bytes, HEADER_BYTES + sealed);
    await writeFile(file, bytes);
    await expect(readAll(store)).rejects.toThrow(/chunk 0 failed authentication/);
  });

  it('detects truncation at a chunk boundary (the last chunk left is not the final one), and a partial chunk', async () => {
    const { store, file } = await storeWith(randomBytes(4 * CHUNK + 10));
    const bytes = await readFile(file);
    const sealed = CHUNK + CHUNK_OVERHEAD;
    await writeFile(file, bytes.subarray(0, HEADER_BYTES + 3 * sealed));
    // Even a range inside the kept part is refused: the final chunk is checked on open.
    await expect(store.openSegment('rec1', 'seg-0001', { start: 0, end: 10 })).rejects.toThrow(/chunk 2 failed authentication/);
    await writeFile(file, bytes.subarray(0, bytes.length - 5));
    await expect(readAll(store)).rejects.toThrow(/failed authentication|truncated/);
    await writeFile(file, bytes.subarray(0, HEADER_BYTES + 3 * sealed + 10)); // a stub of a chunk
    await expect(readAll(store)).rejects.toThrow(/partial chunk/);
  });

  it('detects a chunk moved in from another segment of the same recording (same key)', async () => {
    const { store, dir } = await storeWith(randomBytes(2 * CHUNK));
    await store.writeSegment('rec1', { ...meta, index: 1 }, Readable.from([randomBytes(2 * CHUNK)]));
    const seg = (n: number) => join(dir, 'recordings', 'rec1', 'segments', `seg-000${n}.enc`);
    const one = await readFile(seg(1));
    const two = await readFile(seg(2));
    two.copy(one, HEADER_BYTES, HEADER_BYTES, HEADER_BYTES + CHUNK + CHUNK_OVERHEAD); // chunk 0 of seg 2 into seg 1
    await writeFile(seg(1), one);
    await expect(readAll(store)).rejects.toThrow(/chunk 0 failed authentication/);
  });

  it('files on disk are not the plaintext, and the KEK file is 0600', async () => {
    const plain = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), randomBytes(3000)]); // EBML magic first
    const { dir, file } = await storeWith(plain);
    const onDisk = await readFile(file);
    expect(onDisk.subarray(0, 4).toString('ascii')).toBe('LRC1');
    expect(onDisk.includes(plain.subarray(0, 64))).toBe(false);
    expect((await stat(join(dir, KEK_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a KEK file others can read', async () => {
    const dir = await tempDir();
    await LocalKeyFile.open(dir);
    const { chmod } = await import('node:fs/promises');
    await chmod(join(dir, KEK_FILE), 0o644);
    await expect(LocalKeyFile.open(dir)).rejects.toThrow(/readable by others/);
  });

  it('a wrapped key copied to another recording does not unwrap there', async () => {
    const { store, dir } = await storeWith(randomBytes(100));
    await store.create('rec2');
    await store.writeSegment('rec2', meta, Readable.from([randomBytes(100)]));
    const key = (id: string) => join(dir, 'recordings', id, 'data-key.json');
    await writeFile(key('rec2'), await readFile(key('rec1')));
    await expect(store.openSegment('rec2', 'seg-0001')).rejects.toThrow(/does not unwrap/);
  });

  it('a shredded key leaves the ciphertext unreadable, even with the KEK; delete() reports hash and size', async () => {
    const plain = randomBytes(3 * CHUNK);
    const { store, dir, file } = await storeWith(plain);
    const copy = await readFile(file); // a stray copy (a backup)
    await store.destroyKey('rec1');
    expect(await readdir(join(dir, 'recordings', 'rec1'))).not.toContain('data-key.json');
    await expect(store.openSegment('rec1', 'seg-0001')).rejects.toMatchObject({ reason: 'key_destroyed' });
    expect((await store.manifest('rec1')).keyDestroyedAt).toBeTypeOf('number');
    // Restoring the ciphertext from the copy does not help: no key unwraps for it.
    await writeFile(file, copy);
    await expect(store.openSegment('rec1', 'seg-0001')).rejects.toMatchObject({ reason: 'key_destroyed' });

    const manifestBytes = await readFile(join(dir, 'recordings', 'rec1', 'manifest.json'));
    const expected = createHash('sha256').update(manifestBytes).update(copy).digest('hex');
    expect(await store.delete('rec1')).toEqual({ contentHash: expected, size: manifestBytes.length + copy.length });
    expect(await store.list()).toEqual([]);
    await expect(store.manifest('rec1')).rejects.toMatchObject({ reason: 'not_found' });
  });

  it('refuses ids that are not safe names', async () => {
    const dir = await tempDir();
    const store = await RecordingStore.open(dir, await LocalKeyFile.open(join(dir, 'kek')));
    await expect(store.create('../etc')).rejects.toMatchObject({ reason: 'invalid_id' });
    await store.create('ok');
    await expect(store.create('ok')).rejects.toMatchObject({ reason: 'exists' });
    await expect(store.openSegment('ok', '../../kek/recording-kek.key')).rejects.toMatchObject({ reason: 'invalid_id' });
  });
  // The KMS wrapper is tested against a KMS endpoint on 127.0.0.1 in tests/server/recordingKms.test.ts.
});

async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, 'r+');
  const one = Buffer.alloc(1);
  await handle.read(one, 0, 1, offset);
  one[0] = one[0]! ^ 0x01;
  await handle.write(one, 0, 1, offset);
  await handle.close();
}
