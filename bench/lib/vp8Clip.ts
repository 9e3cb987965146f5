// A short real VP8 clip for the seminar's bot participants: browsers decode what bots send, so it
// must be real VP8, not the generator's marker payloads. Made once per machine with Debian's vpxenc
// (vpx-tools) from a synthetic picture (moving bars), cached in the temp directory, and cut into RTP
// payloads the way Chrome packetizes VP8 (RFC 7741 descriptor with a 15-bit picture id).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { VP8_DESCRIPTOR_BYTES, writeVp8Descriptor } from './rtpPackets.js';

/** One encoded frame of the clip. */
export interface Vp8Frame {
  data: Buffer;
  keyFrame: boolean;
}

export interface Vp8Clip {
  width: number;
  height: number;
  fps: number;
  /** Starts with a key frame, one every second, so looping it stays decodable. */
  frames: Vp8Frame[];
}

const MAX_PAYLOAD = 1100;

/** Whether vpxenc is installed (bench/setup.sh installs vpx-tools). */
export function vpxencInstalled(): boolean {
  try {
    execFileSync('vpxenc', ['--help'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // vpxenc --help exits 1 after printing its help.
    return (error as { status?: number }).status === 1;
  }
}

/** The clip: `seconds` of width x height at fps, about `kbps`, encoded for real time. */
export function vp8Clip(width = 320, height = 180, fps = 15, seconds = 3, kbps = 150): Vp8Clip {
  const dir = join(tmpdir(), 'lectern-bench');
  mkdirSync(dir, { recursive: true });
  const ivf = join(dir, `clip-${width}x${height}-${fps}-${seconds}-${kbps}.ivf`);
  if (!existsSync(ivf)) {
    // The bot threads start together and may each make the clip: every maker writes its own files
    // and renames the result into place, so none reads or overwrites another's half-written one.
    const own = `${process.pid}-${threadId}`;
    const y4m = join(dir, `clip-${width}x${height}-${fps}-${seconds}.${own}.y4m`);
    const part = `${ivf}.${own}.part`;
    writeFileSync(y4m, syntheticY4m(width, height, fps, seconds * fps));
    execFileSync(
      'vpxenc',
      [
        '--codec=vp8', '--rt', '--cpu-used=8', '--end-usage=cbr', `--target-bitrate=${kbps}`, `--kf-max-dist=${fps}`, `--kf-min-dist=${fps}`,
        '--lag-in-frames=0', '--error-resilient=1', '--ivf', '--quiet', '-o', part, y4m,
      ],
      { stdio: 'ignore' },
    );
    renameSync(part, ivf);
    rmSync(y4m, { force: true });
  }
  return { width, height, fps, frames: readIvf(readFileSync(ivf)) };
}

/** Cut one frame into RTP payloads (descriptor + data), at most MAX_PAYLOAD bytes each. */
export function vp8Payloads(frame: Vp8Frame, pictureId: number): Buffer[] {
  const payloads: Buffer[] = [];
  for (let at = 0; at < frame.data.length; at += MAX_PAYLOAD) {
    const chunk = frame.data.subarray(at, at + MAX_PAYLOAD);
    const payload = Buffer.alloc(VP8_DESCRIPTOR_BYTES + chunk.length);
    writeVp8Descriptor(payload, 0, at === 0, pictureId);
    chunk.copy(payload, VP8_DESCRIPTOR_BYTES);
    payloads.push(payload);
  }
  return payloads;
}

function readIvf(file: Buffer): Vp8Frame[] {
  if (file.toString('latin1', 0, 4) !== 'DKIF') throw new Error('vpxenc did not write an IVF file');
  const frames: Vp8Frame[] = [];
  for (let at = file.readUInt16LE(6); at + 12 <= file.length; ) {
    const size = file.readUInt32LE(at);
    const data = file.subarray(at + 12, at + 12 + size);
    // VP8 frame tag: bit 0 of the first byte is 0 for a key frame.
    frames.push({ data, keyFrame: (data[0]! & 1) === 0 });
    at += 12 + size;
  }
  if (!frames[0]?.keyFrame) throw new Error('the VP8 clip does not start with a key frame');
  return frames;
}

/** Grey bars drifting across a gradient, with a block that moves every frame (so every frame differs). */
function syntheticY4m(width: number, height: number, fps: number, count: number): Buffer {
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const lumaSize = width * height;
  const chromaSize = (width / 2) * (height / 2);
  const parts: Buffer[] = [header];
  for (let f = 0; f < count; f++) {
    parts.push(Buffer.from('FRAME\n'));
    const y = Buffer.alloc(lumaSize);
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const bar = Math.floor((col + f * 4) / 20) % 2 === 0 ? 60 : 0;
        const block = Math.abs(col - ((f * 7) % width)) < 16 && Math.abs(row - height / 2) < 16 ? 120 : 0;
        y[row * width + col] = Math.min(235, 16 + Math.floor((row / height) * 100) + bar + block);
      }
    }
    parts.push(y, Buffer.alloc(chromaSize, 128), Buffer.alloc(chromaSize, 128 + ((f * 3) % 40)));
  }
  return Buffer.concat(parts);
}
