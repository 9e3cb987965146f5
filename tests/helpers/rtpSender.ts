// A sender whose media says what time it is: ffmpeg encodes a picture with a white bar growing
// from the left (20 px/s on 320 px, so its width is the sender's clock mod 16 s) as VP8, and a
// tone that beeps at every even second of the same clock (100 to 400 ms long, by the second) as Opus, both as RTP (with
// ffmpeg's RTCP sender reports) into two PlainTransport producers on a router. A test can then read
// from the recorded files themselves when each one starts on the sender's clock.
//
// `videoDelayMs` puts a UDP relay in the video's RTP path that holds every packet that long, while
// its RTCP goes straight on: what a slower path (a pacer, an encoder queue, a congested link) does
// to one track of a participant.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import type { mediasoupTypes as types } from '../../sfu/index.js';
import type { TrackProducer } from '../../sfu/Track.js';

/** Pixels per second the bar grows; the picture is 320 px wide, so it wraps every 16 s. */
export const BAR_PX_PER_SECOND = 20;
export const BAR_PERIOD_S = 16;
/** The tone beeps at every multiple of this many seconds of the sender's clock. */
export const BEEP_PERIOD_S = 2;

export interface RtpSender {
  video: TrackProducer;
  audio: TrackProducer;
  process: ChildProcess;
  /** The end of what ffmpeg wrote to stderr (for a test's failure message). */
  stderr(): string;
  close(): Promise<void>;
}

const VIDEO_SSRC = 33_333_333;
const AUDIO_SSRC = 44_444_444;

/** Start the sender into `router` as participant `peerId`. */
export async function startClockSender(router: types.Router, peerId: string, options: { videoDelayMs?: number } = {}): Promise<RtpSender> {
  const closers: (() => Promise<void> | void)[] = [];
  const transport = async () => {
    // RTCP on its own port: ffmpeg sends RTP and RTCP from two sockets, and comedia latches each.
    const t = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: true });
    closers.push(() => t.close());
    return t;
  };
  const videoTransport = await transport();
  const audioTransport = await transport();
  const video = await videoTransport.produce<TrackProducer['appData']>({
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] }],
      encodings: [{ ssrc: VIDEO_SSRC }],
    },
    appData: { peerId, source: 'camera' },
  });
  const audio = await audioTransport.produce<TrackProducer['appData']>({
    kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: AUDIO_SSRC }] },
    appData: { peerId, source: 'microphone' },
  });
  let videoRtpPort = videoTransport.tuple.localPort;
  if (options.videoDelayMs) {
    const relay = await delayRelay(videoRtpPort, options.videoDelayMs);
    closers.push(() => {
      relay.close();
    });
    videoRtpPort = relay.address().port;
  }
  const url = (rtp: number, t: types.PlainTransport) => `rtp://127.0.0.1:${rtp}?rtcpport=${t.rtcpTuple!.localPort}&pkt_size=1200`;
  const picture = `color=c=black:s=320x240:r=30[b];color=c=white:s=320x240:r=30[w];[b][w]overlay=x='-W+W*mod(t,${BAR_PERIOD_S})/${BAR_PERIOD_S}',format=yuv420p`;
  // The k-th beep (at 2k s) lasts 100 ms * (1 + k mod 4), so a file's beeps give its clock mod 8 s.
  const tone = `aevalsrc='if(lt(mod(t,${BEEP_PERIOD_S}),0.1*(1+mod(floor(t/${BEEP_PERIOD_S}),4))),0.5*sin(2*PI*1000*t),0)':s=48000`;
  // Both streams' sender reports anchor pts 0 at one instant (ffmpeg's default: each stream's own
  // first packet, which for the video waits for its encoder): one clock for both, as in a browser.
  const anchor = ['-start_time_realtime', String(Date.now() * 1000)];
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', picture,
    '-re', '-f', 'lavfi', '-i', tone,
    '-map', '0:v', '-c:v', 'libvpx', '-b:v', '500k', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0', '-g', '60',
    ...anchor, '-payload_type', '96', '-ssrc', String(VIDEO_SSRC), '-f', 'rtp', url(videoRtpPort, videoTransport),
    '-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k',
    ...anchor, '-payload_type', '100', '-ssrc', String(AUDIO_SSRC), '-f', 'rtp', url(audioTransport.tuple.localPort, audioTransport),
  ];
  const process = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  process.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
  const exited = new Promise<void>((resolve) => process.once('close', () => resolve()));
  return {
    video,
    audio,
    process,
    stderr: () => stderr,
    async close() {
      process.kill('SIGKILL');
      await exited;
      for (const close of closers.reverse()) await close();
    },
  };
}

/** A UDP socket on 127.0.0.1 that sends every datagram on to `port` after `delayMs`. */
async function delayRelay(port: number, delayMs: number): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  let open = true;
  socket.once('close', () => (open = false));
  socket.on('message', (packet) => {
    setTimeout(() => {
      if (open) socket.send(packet, port, '127.0.0.1', () => undefined);
    }, delayMs);
  });
  socket.on('error', () => undefined);
  return socket;
}
