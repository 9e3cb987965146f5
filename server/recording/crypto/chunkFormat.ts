// The on-disk format of one encrypted segment file. The plaintext is cut into fixed-size chunks,
// each sealed on its own with AES-256-GCM, so a player can decrypt any byte range by opening only
// the chunks it covers. What a chunk means is authenticated with it: the file's header (format,
// chunk size, a random file id), the chunk's index and whether it is the last one. Swapping,
// reordering, dropping or appending chunks, or cutting the file short, all fail authentication.
//
//   header  = "LRC1" | chunkSize u32be | fileId 16 bytes                         (24 bytes)
//   chunk i = nonce 12 bytes | ciphertext (chunkSize bytes; the last 1..chunkSize, 0 if the file is empty) | tag 16 bytes
//   AAD(i)  = header | i u64be | final u8 (1 on the last chunk, else 0)
//
// Every chunk but the last holds exactly chunkSize bytes, so chunk i starts at a computable offset.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Format tag and version. */
export const MAGIC = Buffer.from('LRC1', 'ascii');
/** Bytes of the file header. */
export const HEADER_BYTES = 24;
/** Bytes of a chunk's nonce. */
export const NONCE_BYTES = 12;
/** Bytes of a chunk's GCM tag. */
export const TAG_BYTES = 16;
/** Bytes each chunk adds to its plaintext. */
export const CHUNK_OVERHEAD = NONCE_BYTES + TAG_BYTES;
/** Plaintext bytes per chunk by default: 64 KiB keeps a range read to a few small decryptions. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Bytes of a data key (AES-256). */
export const DATA_KEY_BYTES = 32;

/** Why an encrypted file could not be read. */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/** A fresh header with a random file id. */
export function newHeader(chunkSize: number): Buffer {
  if (!Number.isInteger(chunkSize) || chunkSize < 16 || chunkSize > 16 * 1024 * 1024) throw new RangeError(`chunk size ${chunkSize} is out of range`);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(chunkSize, 4);
  randomBytes(16).copy(header, 8);
  return header;
}

/** The chunk size of a header, after checking its format tag. */
export function parseHeader(header: Buffer): number {
  if (header.length !== HEADER_BYTES || !header.subarray(0, 4).equals(MAGIC)) throw new IntegrityError('not an encrypted recording segment (bad header)');
  const chunkSize = header.readUInt32BE(4);
  if (chunkSize < 16 || chunkSize > 16 * 1024 * 1024) throw new IntegrityError(`bad chunk size ${chunkSize} in header`);
  return chunkSize;
}

function aad(header: Buffer, index: number, final: boolean): Buffer {
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail[8] = final ? 1 : 0;
  return Buffer.concat([header, tail]);
}

/** Seal chunk `index` of a file. */
export function sealChunk(key: Buffer, header: Buffer, index: number, final: boolean, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(header, index, final));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Open chunk `index` of a file; throws IntegrityError if it is not that chunk, unaltered. */
export function openChunk(key: Buffer, header: Buffer, index: number, final: boolean, sealed: Buffer): Buffer {
  if (sealed.length < CHUNK_OVERHEAD) throw new IntegrityError(`chunk ${index} is truncated`);
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad(header, index, final));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new IntegrityError(`chunk ${index} failed authentication (tampered, reordered, truncated or wrong key)`);
  }
}

/** Layout of a file of `fileSize` bytes: its chunk count and plaintext size. Throws if impossible. */
export function layout(fileSize: number, chunkSize: number): { chunks: number; plaintextSize: number } {
  const body = fileSize - HEADER_BYTES;
  const sealedChunk = chunkSize + CHUNK_OVERHEAD;
  // At least one chunk (an empty plaintext still has a sealed final chunk).
  if (body < CHUNK_OVERHEAD) throw new IntegrityError('encrypted segment is truncated (no final chunk)');
  const chunks = Math.ceil(body / sealedChunk);
  const last = body - (chunks - 1) * sealedChunk;
  if (last < CHUNK_OVERHEAD) throw new IntegrityError('encrypted segment has a partial chunk');
  return { chunks, plaintextSize: body - chunks * CHUNK_OVERHEAD };
}
