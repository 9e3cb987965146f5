// Joining a room and moving media, with no DOM: the UI (ui/) listens to what happens here.
// ICE servers come only from the server's join reply: the browser never contacts a STUN/TURN
// server the deployment did not configure (Jitsi and LiveKit fall back to public STUN).
import { Device, type types } from 'mediasoup-client';
import type { MediaSource, PeerInfo, NotificationData, NotificationName, MethodName, RequestData, ReplyData, ChatMessage, RoomPolicy, Role } from '../../protocol/index.js';
import { Signalling } from './Signalling.js';
import { IceRenewal } from './IceRenewal.js';

/** A track someone else sends, as this browser receives it. */
export interface RemoteTrack {
  consumerId: string;
  peerId: string;
  source: MediaSource;
  track: MediaStreamTrack;
  paused: boolean;
  /** Reads this track's inbound RTP statistics. */
  getStats(): Promise<RTCStatsReport>;
}

// Camera simulcast: three layers at 1/4, 1/2 and full size, each with temporal layers, so the
// server can give every receiver the layer that fits its tile and its bandwidth.
const CAMERA_LAYERS: types.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/**
 * Camera encodings as this browser really sends them. The server trusts the declared temporal
 * layers: declare one it never gets and every viewer stays a layer below what it asks for.
 * Firefox ignores `scalabilityMode` and always sends two temporal layers per simulcast layer;
 * Chromium sends the three it is asked for. Told by mediasoup-client's handler (`Firefox120`,
 * `Chrome111`...), which is what drives the sender, not by the user agent string.
 */
export function cameraEncodings(handlerName: string): types.RtpEncodingParameters[] {
  const scalabilityMode = handlerName.startsWith('Firefox') ? 'L1T2' : 'L1T3';
  return CAMERA_LAYERS.map((layer) => ({ ...layer, scalabilityMode }));
}
// Slides: sharp text at a low frame rate, one layer (students on weak links get audio and slides first).
const SCREEN_ENCODINGS: types.RtpEncodingParameters[] = [{ maxBitrate: 1_500_000, maxFramerate: 5 }];

/** State of the room when this participant got in. */
export interface RoomState {
  peers: PeerInfo[];
  chat: ChatMessage[];
  hands: string[];
  activeSpeaker: string | null;
}

/** Notifications the UI handles directly (room state that is not media). */
export type RoomNotificationHandlers = {
  [N in Extract<
    NotificationName,
    | 'peerUpdated'
    | 'lobbyChanged'
    | 'roomPolicy'
    | 'moderatorMuted'
    | 'unmuteAllowed'
    | 'chatMessage'
    | 'handQueue'
    | 'activeSpeaker'
    | 'pollOpened'
    | 'pollClosed'
    | 'pollResults'
    | 'breakoutState'
    | 'breakoutWarning'
    | 'breakoutMessage'
  >]?: (
    data: NotificationData<N>,
  ) => void;
};

/** What the UI hears from a RoomClient. */
export interface RoomClientEvents extends RoomNotificationHandlers {
  peerJoined(peer: PeerInfo): void;
  peerLeft(peerId: string): void;
  trackAdded(track: RemoteTrack): void;
  trackRemoved(track: RemoteTrack): void;
  trackPaused(track: RemoteTrack, paused: boolean): void;
  disconnected(reason: string): void;
}

/** A Device loaded before joining, and the router capabilities it was loaded with. */
export interface PreloadedDevice {
  device: Device;
  capabilities: string;
}

/**
 * Load a Device while the person types their name. Loading probes the browser's codecs with a
 * throw-away PeerConnection (100-150 ms in the join bench); done here, it is off the path from the
 * click to the first picture. The capabilities are the server's, the same for every room.
 */
export async function preloadDevice(): Promise<PreloadedDevice> {
  const response = await fetch('/api/rtp-capabilities', { cache: 'no-store' });
  if (!response.ok) throw new Error(`media capabilities: HTTP ${response.status}`);
  const { routerRtpCapabilities } = (await response.json()) as { routerRtpCapabilities: types.RtpCapabilities };
  return { device: await loadedDevice(routerRtpCapabilities), capabilities: JSON.stringify(routerRtpCapabilities) };
}

/** The preloaded Device if it was loaded with the room's capabilities, else a freshly loaded one. */
async function loadDevice(routerRtpCapabilities: types.RtpCapabilities, preloaded?: Promise<PreloadedDevice>): Promise<Device> {
  const early = await preloaded?.catch(() => undefined);
  if (early && early.capabilities === JSON.stringify(routerRtpCapabilities)) return early.device;
  return loadedDevice(routerRtpCapabilities);
}

async function loadedDevice(routerRtpCapabilities: types.RtpCapabilities): Promise<Device> {
  const device = new Device();
  await device.load({ routerRtpCapabilities });
  return device;
}

/** One participant's connection to one room. */
export class RoomClient {
  readonly #signalling: Signalling;
  readonly #device: Device;
  readonly #events: RoomClientEvents;
  /** Removed, class ended or connection closed: later failures must not hide the reason. */
  #ended = false;
  readonly #tracks = new Map<string, RemoteTrack & { consumer: types.Consumer }>();
  readonly #producers = new Map<MediaSource, types.Producer>();
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  /** Fresh TURN credentials for both transports before the current one expires. */
  readonly #iceRenewal = new IceRenewal(
    () => this.#signalling.request('renewIce', {}),
    async (iceServers) => {
      await Promise.all([this.#sendTransport, this.#recvTransport].map((t) => (t && !t.closed ? t.updateIceServers({ iceServers }) : undefined)));
    },
  );
  /** This participant's id in the room. */
  readonly peerId: string;

  /**
   * Connect and join. If the room has a lobby, `onWaiting` is called and this resolves only once an
   * instructor admits us (or rejects if we are turned away). Then both transports are set up.
   */
  static async join(
    options: {
      room: string;
      displayName: string;
      token?: string | undefined;
      onWaiting?: () => void;
      /** A connection opened while the person was typing their name, used if still open. */
      preconnected?: Promise<Signalling> | undefined;
      /** A Device loaded while the person was typing their name (see preloadDevice). */
      preloadedDevice?: Promise<PreloadedDevice> | undefined;
    },
    events: RoomClientEvents,
  ): Promise<{ client: RoomClient; state: RoomState; role: Role; permissions: string[]; policy: RoomPolicy }> {
    const early = await options.preconnected?.catch(() => undefined);
    const signalling = early?.isOpen ? early : await Signalling.connect();
    try {
      const outcome = new Promise<void>((resolve, reject) => {
        signalling.on('admitted', () => resolve());
        signalling.on('denied', ({ reason }) => reject(new Error(reason)));
        signalling.on('removed', ({ reason }) => reject(new Error(reason)));
      });
      const { room, displayName, token } = options;
      const joined = await signalling.request('join', { room, displayName, ...(token ? { token } : {}) });
      if (!joined.admitted) {
        options.onWaiting?.();
        await outcome;
      }
      // Time to first picture is the budget here: both transports are asked for before any Device
      // work (loading one blocks the page for tens of ms), and the Device is usually loaded already.
      const [send, recv, device] = await Promise.all([
        signalling.request('createTransport', { direction: 'send' }),
        signalling.request('createTransport', { direction: 'recv' }),
        loadDevice(joined.routerRtpCapabilities as types.RtpCapabilities, options.preloadedDevice),
      ]);
      const client = new RoomClient(signalling, device, joined.peerId, events);
      const ice = { iceServers: joined.iceServers as RTCIceServer[], iceTransportPolicy: joined.iceTransportPolicy };
      client.#setUpTransports(send, recv, ice);
      client.#iceRenewal.schedule(joined.iceServersTtlSeconds);
      const state = await signalling.request('ready', { rtpCapabilities: { ...device.rtpCapabilities } });
      return { client, state, role: joined.role, permissions: joined.permissions, policy: joined.policy };
    } catch (error) {
      signalling.close();
      throw error;
    }
  }

  private constructor(signalling: Signalling, device: Device, peerId: string, events: RoomClientEvents) {
    this.#signalling = signalling;
    this.#device = device;
    this.peerId = peerId;
    this.#events = events;
    const end = (reason: string) => {
      this.#ended = true;
      this.#iceRenewal.stop();
      events.disconnected(reason);
    };
    signalling.onclose = end;
    signalling.on('peersJoined', ({ peers }) => peers.forEach((peer) => events.peerJoined(peer)));
    signalling.on('peersLeft', ({ peerIds }) => peerIds.forEach((id) => events.peerLeft(id)));
    signalling.on('consumerAdded', (data) => void this.#onConsumerAdded(data));
    signalling.on('consumerClosed', ({ consumerId }) => this.#removeTrack(consumerId));
    signalling.on('consumerPaused', ({ consumerId }) => this.#setPaused(consumerId, true));
    signalling.on('consumerResumed', ({ consumerId }) => this.#setPaused(consumerId, false));
    signalling.on('roomClosed', ({ reason }) => end(reason));
    signalling.on('removed', ({ reason }) => end(reason));
    signalling.on('moderatorMuted', (data) => {
      // The server already paused the track; mirror it locally so the UI and the track agree.
      this.#producers.get(data.source)?.pause();
      events.moderatorMuted?.(data);
    });
    signalling.on('peerUpdated', (data) => events.peerUpdated?.(data));
    signalling.on('lobbyChanged', (data) => events.lobbyChanged?.(data));
    signalling.on('roomPolicy', (data) => events.roomPolicy?.(data));
    signalling.on('unmuteAllowed', (data) => events.unmuteAllowed?.(data));
    signalling.on('chatMessage', (data) => events.chatMessage?.(data));
    signalling.on('handQueue', (data) => events.handQueue?.(data));
    signalling.on('activeSpeaker', (data) => events.activeSpeaker?.(data));
    signalling.on('pollOpened', (data) => events.pollOpened?.(data));
    signalling.on('pollClosed', (data) => events.pollClosed?.(data));
    signalling.on('pollResults', (data) => events.pollResults?.(data));
    signalling.on('breakoutState', (data) => events.breakoutState?.(data));
    signalling.on('breakoutWarning', (data) => events.breakoutWarning?.(data));
    signalling.on('breakoutMessage', (data) => events.breakoutMessage?.(data));
  }

  /** Send any request of the protocol (moderation, chat, hands...). */
  call<M extends MethodName>(method: M, data: RequestData<M>): Promise<ReplyData<M>> {
    return this.#signalling.request(method, data);
  }

  /** Whether this participant is still in the class: not removed, class not ended, socket open. */
  get connected(): boolean {
    return !this.#ended && this.#signalling.isOpen;
  }

  /** Whether this browser can send video (some locked-down machines cannot). */
  get canSendVideo(): boolean {
    return this.#device.canProduce('video');
  }

  /** Start sending a camera, microphone or screen track. */
  async publish(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const transport = this.#sendTransport;
    if (!transport) throw new Error('not connected');
    if (source === 'screen') track.contentHint = 'detail';
    const encodings = source === 'camera' ? cameraEncodings(this.#device.handlerName) : source === 'screen' ? SCREEN_ENCODINGS : undefined;
    const producer = await transport.produce({ track, appData: { source }, stopTracks: false, ...(encodings ? { encodings } : {}) });
    this.#producers.set(source, producer);
    producer.on('trackended', () => void this.unpublish(source));
  }

  /** Stop sending a source for good (screen share ended). */
  async unpublish(source: MediaSource): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    this.#producers.delete(source);
    producer.close();
    await this.#signalling.request('closeProducer', { producerId: producer.id }).catch(() => undefined);
  }

  /** Ask the server for the simulcast layer that fits a tile of this size. */
  async setTileSize(consumerId: string, width: number, height: number): Promise<void> {
    await this.#signalling.request('setConsumerPreferences', { consumerId, width: Math.round(width), height: Math.round(height) });
  }

  /** Mute or unmute one of my tracks (the server tells the others). */
  async setMuted(source: MediaSource, muted: boolean): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    if (muted) {
      producer.pause();
      await this.#signalling.request('pauseProducer', { producerId: producer.id });
    } else {
      // Ask first: a moderator may have locked this source (the server then refuses).
      await this.#signalling.request('resumeProducer', { producerId: producer.id });
      producer.resume();
    }
  }

  /** Whether I am sending this source. */
  isPublishing(source: MediaSource): boolean {
    return this.#producers.has(source);
  }

  /** Leave the room and release everything. */
  async leave(): Promise<void> {
    this.#iceRenewal.stop();
    try {
      await this.#signalling.request('leave', {});
    } catch {
      // Leaving must work even if the connection already died.
    }
    this.#signalling.close();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
  }

  #setUpTransports(
    send: ReplyData<'createTransport'>,
    recv: ReplyData<'createTransport'>,
    ice: { iceServers: RTCIceServer[]; iceTransportPolicy: RTCIceTransportPolicy },
  ): void {
    this.#sendTransport = this.#device.createSendTransport({ ...transportOptions(send), ...ice });
    this.#wireConnect(this.#sendTransport);
    this.#sendTransport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData.source as MediaSource;
      this.#signalling
        .request('produce', { transportId: send.id, kind, source, rtpParameters: { ...rtpParameters } })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });

    this.#recvTransport = this.#device.createRecvTransport({ ...transportOptions(recv), ...ice });
    this.#wireConnect(this.#recvTransport);
  }

  #wireConnect(transport: types.Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#signalling
        .request('connectTransport', { transportId: transport.id, dtlsParameters: { ...dtlsParameters } })
        .then(() => callback(), errback);
    });
  }

  async #onConsumerAdded(data: NotificationData<'consumerAdded'>): Promise<void> {
    const transport = this.#recvTransport;
    if (!transport) return;
    const consumer = await transport.consume({
      id: data.consumerId,
      producerId: data.producerId,
      kind: data.kind,
      // Produced by mediasoup on our own server; the protocol carries it as an opaque object.
      rtpParameters: data.rtpParameters as types.RtpParameters,
    });
    const remote = {
      consumerId: consumer.id,
      peerId: data.peerId,
      source: data.source,
      track: consumer.track,
      paused: data.producerPaused,
      consumer,
      getStats: () => consumer.getStats(),
    };
    this.#tracks.set(consumer.id, remote);
    this.#events.trackAdded(remote);
    await this.#signalling.request('resumeConsumer', { consumerId: consumer.id });
  }

  #removeTrack(consumerId: string): void {
    const remote = this.#tracks.get(consumerId);
    if (!remote) return;
    this.#tracks.delete(consumerId);
    remote.consumer.close();
    this.#events.trackRemoved(remote);
  }

  #setPaused(consumerId: string, paused: boolean): void {
    const remote = this.#tracks.get(consumerId);
    if (!remote) return;
    remote.paused = paused;
    this.#events.trackPaused(remote, paused);
  }
}

/** The server's createTransport reply as mediasoup-client options (mediasoup made these objects). */
function transportOptions(reply: ReplyData<'createTransport'>): types.TransportOptions {
  return {
    id: reply.id,
    iceParameters: reply.iceParameters as types.IceParameters,
    iceCandidates: reply.iceCandidates as types.IceCandidate[],
    dtlsParameters: reply.dtlsParameters as types.DtlsParameters,
  };
}
