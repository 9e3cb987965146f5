// A private Janus for the comparison: Debian's `janus` binary started from a temporary config
// directory that loads only the HTTP transport (bound to 127.0.0.1) and the streaming plugin, one
// event loop, no STUN/TURN, ICE gathering enforced to the loopback interface, IPv6 off. Nothing in
// /etc/janus is read or changed. One RTP mountpoint (VP8 + opus) takes the bench publisher.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../lib/rtpPackets.js';

const LIB_DIR = '/usr/lib/x86_64-linux-gnu/janus';
/** The mountpoint id the bench watches. */
export const MOUNTPOINT_ID = 1;

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** Whether Debian's janus package is installed. */
export function janusInstalled(): boolean {
  return existsSync('/usr/bin/janus') && existsSync(join(LIB_DIR, 'plugins', 'libjanus_streaming.so'));
}

/** A running Janus process with its HTTP API on 127.0.0.1. */
export class JanusServer {
  readonly url: string;
  readonly videoPort: number;
  readonly audioPort: number;
  readonly #process: ChildProcess;
  readonly #dir: string;
  #log = '';
  #closed = false;

  /** Write the config, start janus and wait until its API answers. */
  static async create(): Promise<JanusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'lectern-bench-janus-'));
    const [httpPort, videoPort, audioPort] = [await freeTcpPort(), await freeUdpPort(), await freeUdpPort()];
    for (const [folder, lib] of [
      ['plugins', 'libjanus_streaming.so'],
      ['transports', 'libjanus_http.so'],
      ['events', undefined],
      ['loggers', undefined],
    ] as const) {
      mkdirSync(join(dir, folder));
      if (lib) symlinkSync(join(LIB_DIR, folder, lib), join(dir, folder, lib));
    }
    writeFileSync(
      join(dir, 'janus.jcfg'),
      `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/events"
  loggers_folder = "${dir}/loggers"
  debug_level = 2
  session_timeout = 0
  event_loops = 1
  protected_folders = [ "/etc", "/usr", "/proc", "/sys" ]
}
certificates: {
}
media: {
  ipv6 = false
  rtp_port_range = "30000-39999"
}
nat: {
  nice_debug = false
  ignore_mdns = true
  ice_enforce_list = "bench127"
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
  broadcast = false
}
`,
    );
    writeFileSync(
      join(dir, 'janus.transport.http.jcfg'),
      `general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = ${httpPort}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
  admin_https = false
}
cors: {
}
`,
    );
    writeFileSync(
      join(dir, 'janus.plugin.streaming.jcfg'),
      `general: {
  events = false
}
bench: {
  type = "rtp"
  id = ${MOUNTPOINT_ID}
  description = "lectern bench lecture"
  media = (
    { type = "audio", mid = "a", label = "audio", port = ${audioPort}, iface = "127.0.0.1", pt = ${OPUS_PAYLOAD_TYPE}, codec = "opus" },
    { type = "video", mid = "v", label = "video", port = ${videoPort}, iface = "127.0.0.1", pt = ${VP8_PAYLOAD_TYPE}, codec = "vp8" }
  )
}
`,
    );
    const child = spawn('janus', ['-F', dir, '-C', join(dir, 'janus.jcfg'), '-o'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new JanusServer(child, dir, `http://127.0.0.1:${httpPort}/janus`, videoPort, audioPort);
    await server.#waitReady();
    return server;
  }

  private constructor(child: ChildProcess, dir: string, url: string, videoPort: number, audioPort: number) {
    this.#process = child;
    this.#dir = dir;
    this.url = url;
    this.videoPort = videoPort;
    this.audioPort = audioPort;
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** The janus process id. */
  get pid(): number {
    return this.#process.pid ?? 0;
  }

  /** The tail of janus's log (for error messages). */
  get log(): string {
    return this.#log;
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.#process.exitCode !== null) throw new Error(`janus exited (${this.#process.exitCode}):\n${this.#log}`);
      try {
        const response = await fetch(`${this.url}/info`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`janus did not answer within 15 s:\n${this.#log}`);
  }

  /** Stop janus and remove its config directory. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#process.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.#process.once('exit', () => resolve()));
      this.#process.kill('SIGTERM');
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
