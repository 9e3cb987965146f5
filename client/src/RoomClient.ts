// Joining a room and moving media, with no DOM: the UI (ui/) listens to what happens here.
// ICE servers come only from the server's join reply: the browser never contacts a STUN/TURN
// server the deployment did not configure (Jitsi and LiveKit fall back to public STUN).
import { Device, type types } from 'mediasoup-client';
import type { MediaSource, PeerInfo, NotificationData, NotificationName, MethodName, RequestData, ReplyData, ChatMessage, RoomPolicy, Role } from '../../protocol/index.js';
import { RequestError, Signalling } from './Signalling.js';
import { IceRenewal } from './IceRenewal.js';

/** A track someone else sends, as this browser receives it. */
export interface RemoteTrack {
  consumerId: string;
  /** The sender's track: what `setView` names. */
  producerId: string;
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

// Reconnecting the signalling socket: first try at once-ish, then back off to every few seconds
// (with jitter, so a whole class whose Wi-Fi came back does not knock at the same instant). The
// server holds us for its grace window; past it the resume is refused and we join afresh.
const RECONNECT_BASE_MS = 250;
const RECONNECT_MAX_MS = 4000;
// A transport that goes 'disconnected' often comes back by itself (a Wi-Fi hiccup): wait this long
// before an ICE restart. 'failed' restarts at once.
const ICE_DISCONNECTED_GRACE_MS = 2000;
// ICE restarts tried on one transport before starting media over on new transports.
const ICE_RESTARTS_BEFORE_RESET = 2;
// How long an ICE restart gets to bring the transport back before the next step.
const ICE_RESTART_WAIT_MS = 5000;
// Chrome takes 10 s and more to call a dead path 'disconnected' (it pings a stable pair every
// 2.5 s and wants several misses), while a class sees a frozen picture at once. So the client also
// watches what arrives: when no connected transport has received a single byte (media, RTCP
// feedback, STUN answers) for this long, the path is treated as down.
const STALL_MS = 2500;
const FLOW_CHECK_INTERVAL_MS = 500;

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
    | 'recordingState'
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
  /** Out of the class for good (removed, class ended, server gone). */
  disconnected(reason: string): void;
  /** The connection is being repaired (true) or works again, media flowing (false). */
  reconnecting(active: boolean): void;
  /** Too long away: the server let us go; join again as a new participant. */
  rejoinNeeded(reason: string): void;
  /**
   * In a cluster: this page's server has not answered for as long as the registry keeps a dead node
   * (`failoverAfterSeconds` of the join): the class has a new home elsewhere (see Failover.ts).
   * The resume goes on meanwhile.
   */
  serverGone?(): void;
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

type IceOptions = { iceServers: RTCIceServer[]; iceTransportPolicy: RTCIceTransportPolicy };

/** One participant's connection to one room. */
export class RoomClient {
  readonly #signalling: Signalling;
  readonly #device: Device;
  readonly #events: RoomClientEvents;
  readonly #room: string;
  /** Removed, class ended or let go after a long drop: later failures must not hide the reason. */
  #ended = false;
  readonly #tracks = new Map<string, RemoteTrack & { consumer: types.Consumer }>();
  readonly #producers = new Map<MediaSource, types.Producer>();
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  /** Fresh TURN credentials for both transports before the current one expires. */
  readonly #iceRenewal = new IceRenewal(
    () => this.#signalling.request('renewIce', {}),
    async (iceServers) => {
      // A full media reconnect later builds its transports from these, too.
      this.#ice = { ...this.#ice, iceServers };
      await Promise.all([this.#sendTransport, this.#recvTransport].map((t) => (t && !t.closed ? t.updateIceServers({ iceServers }) : undefined)));
    },
  );
  #ice: IceOptions;
  /** The secret of the next `resume`; each resume replaces it. */
  #resumeSecret: string;
  /** Whether the signalling socket is being reconnected. */
  #resuming = false;
  /** In a cluster: how long the server may stay unreachable before the class surely has a new home. */
  readonly #failoverAfterMs: number | undefined;
  /** Whether media is being started over on new transports; `#resetAgain`: once more after this one. */
  #resetting: Promise<void> | undefined;
  #resetAgain = false;
  /** Settles when the current receive transport exists: consumers announced before wait for it. */
  #recvReady: Promise<void> = Promise.resolve();
  /**
   * Consumers announced but not set up yet (waiting for the receive transport, or being consumed):
   * a consumerClosed meanwhile cancels one, a consumerPaused/Resumed meanwhile is kept for it.
   */
  readonly #pendingConsumers = new Map<string, { cancelled: boolean; paused?: boolean }>();
  /** ICE restarts tried per transport since it was last connected, and the timer of the next step. */
  readonly #iceRepair = new Map<types.Transport, { attempts: number; timer: ReturnType<typeof setTimeout> | undefined }>();
  #reconnectingShown = false;
  /** Bytes each transport had received at the last check, and when that number last changed. */
  readonly #flow = new Map<types.Transport, { bytes: number; changedAt: number }>();
  /** Whether nothing at all is arriving on any connected transport (see STALL_MS). */
  #stalled = false;
  #checkingFlow = false;
  readonly #flowTimer: ReturnType<typeof setInterval>;
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
      /** How many `moved` redirects brought this page here (cluster). */
      moves?: number | undefined;
      /** Just before the page follows a `moved` redirect to the node at this origin. */
      onMoving?: ((to: string) => void) | undefined;
      /** Do not follow a `moved` redirect to this origin (the page came back from it: Failover.ts). */
      avoid?: string | undefined;
      /** In the class (admitted), before the transports are set up: what the person may send is known from here on. */
      onAdmitted?: ((joined: { permissions: string[]; policy: RoomPolicy }) => void) | undefined;
    },
    events: RoomClientEvents,
  ): Promise<{ client: RoomClient; state: RoomState; role: Role; permissions: string[]; policy: RoomPolicy }> {
    const early = await options.preconnected?.catch(() => undefined);
    const signalling = early?.isOpen ? early : await Signalling.connect();
    try {
      let admit!: () => void;
      let refuse!: (error: Error) => void;
      const outcome = new Promise<void>((resolve, reject) => {
        admit = resolve;
        refuse = reject;
        signalling.on('admitted', () => resolve());
        signalling.on('denied', ({ reason }) => reject(new Error(reason)));
        signalling.on('removed', ({ reason }) => reject(new Error(reason)));
      });
      // Awaited only while waiting in the lobby; a removal after admission ends the class through
      // the client's own 'removed' listener, and must not also surface here as an unhandled rejection.
      outcome.catch(() => undefined);
      const { room, displayName, token } = options;
      const joined = await signalling.request('join', { room, displayName, ...(token ? { token } : {}) });
      let resumeSecret = joined.resumeSecret;
      if (!joined.admitted) {
        options.onWaiting?.();
        // A drop while waiting keeps our place in the lobby: resume it (an admission made
        // meanwhile is delivered on the new connection).
        let waiting = true;
        let resuming = false;
        signalling.onclose = () => {
          if (resuming) return;
          resuming = true;
          resumeWithBackoff(signalling, { room, peerId: joined.peerId, secret: () => resumeSecret }, () => !waiting)
            .then((reply) => {
              if (!reply) return;
              resumeSecret = reply.resumeSecret;
              if (reply.admitted) admit();
            }, refuse)
            .finally(() => (resuming = false));
        };
        try {
          await outcome;
        } finally {
          waiting = false;
          signalling.onclose = undefined;
        }
      }
      options.onAdmitted?.({ permissions: joined.permissions, policy: joined.policy });
      // Time to first picture is the budget here: both transports are asked for before any Device
      // work (loading one blocks the page for tens of ms), and the Device is usually loaded already.
      const [send, recv, device] = await Promise.all([
        signalling.request('createTransport', { direction: 'send' }),
        signalling.request('createTransport', { direction: 'recv' }),
        loadDevice(joined.routerRtpCapabilities as types.RtpCapabilities, options.preloadedDevice),
      ]);
      const ice = { iceServers: joined.iceServers as RTCIceServer[], iceTransportPolicy: joined.iceTransportPolicy };
      const client = new RoomClient(signalling, device, { peerId: joined.peerId, room, resumeSecret, ice, failoverAfterSeconds: joined.failoverAfterSeconds }, events);
      client.#setUpTransports(send, recv);
      client.#iceRenewal.schedule(joined.iceServersTtlSeconds);
      const state = await signalling.request('ready', { rtpCapabilities: { ...device.rtpCapabilities } });
      return { client, state, role: joined.role, permissions: joined.permissions, policy: joined.policy };
    } catch (error) {
      signalling.close();
      followRedirect(error, options);
      throw error;
    }
  }

  private constructor(
    signalling: Signalling,
    device: Device,
    membership: { peerId: string; room: string; resumeSecret: string; ice: IceOptions; failoverAfterSeconds?: number | undefined },
    events: RoomClientEvents,
  ) {
    this.#signalling = signalling;
    this.#device = device;
    this.peerId = membership.peerId;
    this.#room = membership.room;
    this.#resumeSecret = membership.resumeSecret;
    this.#ice = membership.ice;
    this.#failoverAfterMs = membership.failoverAfterSeconds === undefined ? undefined : membership.failoverAfterSeconds * 1000;
    this.#events = events;
    this.#flowTimer = setInterval(() => void this.#checkFlow(), FLOW_CHECK_INTERVAL_MS);
    const end = (reason: string) => {
      this.#ended = true;
      this.#iceRenewal.stop();
      clearInterval(this.#flowTimer);
      this.#signalling.onclose = undefined;
      this.#signalling.close();
      events.disconnected(reason);
    };
    signalling.onclose = () => void this.#resume();
    signalling.on('peersJoined', ({ peers }) => peers.forEach((peer) => events.peerJoined(peer)));
    signalling.on('peersLeft', ({ peerIds }) => peerIds.forEach((id) => events.peerLeft(id)));
    signalling.on('consumerAdded', (data) => void this.#onConsumerAdded(data).catch((error: unknown) => console.warn('cannot receive a track', error)));
    signalling.on('consumerClosed', ({ consumerId }) => {
      const pending = this.#pendingConsumers.get(consumerId);
      if (pending) pending.cancelled = true;
      this.#removeTrack(consumerId);
    });
    signalling.on('mediaReset', () => void this.#resetMedia(false));
    signalling.on('consumerPaused', ({ consumerId }) => this.#setPaused(consumerId, true));
    signalling.on('consumerResumed', ({ consumerId }) => this.#setPaused(consumerId, false));
    signalling.on('roomClosed', ({ reason }) => end(reason));
    // One node of a cluster is shutting down: join again (a live node takes the class, or the
    // join is redirected to the one that did). The page's rejoin does it without a click.
    signalling.on('serverDraining', ({ reason }) => {
      this.#ended = true;
      this.#iceRenewal.stop();
      clearInterval(this.#flowTimer);
      this.#signalling.onclose = undefined;
      this.#signalling.close();
      events.rejoinNeeded(reason);
    });
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
    signalling.on('recordingState', (data) => events.recordingState?.(data));
  }

  /** Send any request of the protocol (moderation, chat, hands...). */
  call<M extends MethodName>(method: M, data: RequestData<M>): Promise<ReplyData<M>> {
    return this.#signalling.request(method, data);
  }

  /** Whether this participant is still in the class: not removed, class not ended, not let go. */
  get connected(): boolean {
    return !this.#ended;
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

  /**
   * Say which video is on screen: producer ids, most important first. The server sends those (up
   * to its cap) and pauses the rest; the reply is what it will send. Audio is not affected.
   */
  async setView(video: string[]): Promise<string[]> {
    return (await this.#signalling.request('setView', { video })).video;
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
    this.#ended = true;
    this.#signalling.onclose = undefined;
    try {
      await this.#signalling.request('leave', {});
    } catch {
      // Leaving must work even if the connection already died.
    }
    this.#signalling.close();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
    for (const repair of this.#iceRepair.values()) clearTimeout(repair.timer);
    clearInterval(this.#flowTimer);
  }

  /**
   * The signalling socket dropped: reconnect with backoff and resume the same participant. Media
   * keeps flowing meanwhile (it does not go through this socket). If the server no longer knows us
   * (we were away past its grace window), join again as a new participant.
   */
  async #resume(): Promise<void> {
    if (this.#ended || this.#resuming) return;
    this.#resuming = true;
    this.#updateReconnecting();
    try {
      const reply = await resumeWithBackoff(
        this.#signalling,
        { room: this.#room, peerId: this.peerId, secret: () => this.#resumeSecret },
        () => this.#ended,
        this.#failoverAfterMs === undefined ? undefined : { afterMs: this.#failoverAfterMs, then: () => this.#events.serverGone?.() },
      );
      if (!reply) return;
      this.#resumeSecret = reply.resumeSecret;
      this.#ice = { iceServers: reply.iceServers as RTCIceServer[], iceTransportPolicy: reply.iceTransportPolicy };
      this.#iceRenewal.schedule(reply.iceServersTtlSeconds);
      await Promise.all([this.#sendTransport, this.#recvTransport].map((t) => (t && !t.closed ? t.updateIceServers({ iceServers: this.#ice.iceServers }) : undefined)));
    } catch {
      // resume_failed: away past the server's grace window.
      this.#ended = true;
      clearInterval(this.#flowTimer);
      this.#signalling.onclose = undefined;
      this.#signalling.close();
      this.#events.rejoinNeeded('you were away too long');
    } finally {
      this.#resuming = false;
      this.#updateReconnecting();
      // A transport that failed while signalling was down could not be repaired then.
      for (const transport of [this.#sendTransport, this.#recvTransport]) {
        if (transport && !this.#ended && transport.connectionState === 'failed') this.#repairIce(transport);
      }
    }
  }

  /**
   * Start media over on new transports: after ICE restarts did not help, or when the server moved
   * the room to a live media worker (`mediaReset`). Everything sent is sent again; everything
   * received comes back through the new receive transport. Runs one at a time.
   */
  async #resetMedia(askServer: boolean): Promise<void> {
    if (this.#ended) return;
    if (this.#resetting) {
      this.#resetAgain = true;
      return this.#resetting;
    }
    this.#resetting = (async () => {
      do {
        this.#resetAgain = false;
        await this.#startMediaOver(askServer).catch((error: unknown) => {
          console.warn('media reconnect failed; trying again', error);
          this.#resetAgain = !this.#ended;
          return sleep(RECONNECT_MAX_MS);
        });
        askServer = true;
      } while (this.#resetAgain && !this.#ended);
    })();
    this.#updateReconnecting();
    try {
      await this.#resetting;
    } finally {
      this.#resetting = undefined;
      this.#updateReconnecting();
    }
  }

  async #startMediaOver(askServer: boolean): Promise<void> {
    let recvReady!: () => void;
    this.#recvReady = new Promise<void>((resolve) => (recvReady = resolve));
    try {
      if (askServer) await this.#signalling.request('resetMedia', {});
      const sending = [...this.#producers].map(([source, producer]) => ({ source, track: producer.track, paused: producer.paused }));
      for (const repair of this.#iceRepair.values()) clearTimeout(repair.timer);
      this.#iceRepair.clear();
      this.#sendTransport?.close();
      this.#recvTransport?.close();
      this.#sendTransport = undefined;
      this.#recvTransport = undefined;
      this.#producers.clear();
      for (const consumerId of [...this.#tracks.keys()]) this.#removeTrack(consumerId);
      const [send, recv] = await Promise.all([
        this.#signalling.request('createTransport', { direction: 'send' }),
        this.#signalling.request('createTransport', { direction: 'recv' }),
      ]);
      this.#setUpTransports(send, recv);
      recvReady();
      for (const { source, track, paused } of sending) {
        if (!track || track.readyState === 'ended') continue;
        await this.publish(source, track);
        if (paused) await this.setMuted(source, true);
      }
    } finally {
      recvReady();
    }
  }

  /** Watch a transport's connection: repair it when it drops, and keep the banner true. */
  #watchConnection(transport: types.Transport): void {
    transport.on('connectionstatechange', (state) => {
      if (transport !== this.#sendTransport && transport !== this.#recvTransport) return;
      const repair = this.#iceRepair.get(transport);
      if (state === 'connected') {
        if (repair) clearTimeout(repair.timer);
        this.#iceRepair.delete(transport);
      } else if (state === 'disconnected') {
        if (!repair?.timer) this.#scheduleIceRepair(transport, ICE_DISCONNECTED_GRACE_MS);
      } else if (state === 'failed') {
        if (repair) clearTimeout(repair.timer);
        this.#repairIce(transport);
      }
      this.#updateReconnecting();
    });
  }

  #scheduleIceRepair(transport: types.Transport, delayMs: number): void {
    const repair = this.#iceRepair.get(transport) ?? { attempts: 0, timer: undefined };
    this.#iceRepair.set(transport, repair);
    clearTimeout(repair.timer);
    repair.timer = setTimeout(() => {
      repair.timer = undefined;
      if (!this.#healthy(transport)) this.#repairIce(transport);
    }, delayMs);
  }

  /** One step of repair: an ICE restart, or after a few of those, new transports altogether. */
  #repairIce(transport: types.Transport): void {
    if (this.#ended || transport.closed || (transport !== this.#sendTransport && transport !== this.#recvTransport)) return;
    const repair = this.#iceRepair.get(transport) ?? { attempts: 0, timer: undefined };
    this.#iceRepair.set(transport, repair);
    if (this.#resuming || this.#resetting) return; // no signalling now; #resume() tries again after
    if (repair.attempts >= ICE_RESTARTS_BEFORE_RESET) {
      void this.#resetMedia(true);
      return;
    }
    repair.attempts += 1;
    this.#signalling
      .request('restartIce', { transportId: transport.id })
      .then(({ iceParameters }) => transport.restartIce({ iceParameters: iceParameters as types.IceParameters }))
      .catch((error: unknown) => console.warn('ICE restart failed', error))
      .finally(() => {
        // Not back after a while: the next step.
        if (!transport.closed && !this.#healthy(transport)) this.#scheduleIceRepair(transport, ICE_RESTART_WAIT_MS);
      });
  }

  #healthy(transport: types.Transport): boolean {
    return transport.connectionState === 'connected' && !this.#stalled;
  }

  /** Whether anything still arrives on the connected transports; a stall starts their repair. */
  async #checkFlow(): Promise<void> {
    if (this.#checkingFlow || this.#ended) return;
    this.#checkingFlow = true;
    try {
      const connected = [this.#sendTransport, this.#recvTransport].filter(
        (t): t is types.Transport => t !== undefined && !t.closed && t.connectionState === 'connected',
      );
      const now = performance.now();
      let silent = connected.length > 0;
      for (const transport of connected) {
        const bytes = await bytesReceived(transport);
        const flow = this.#flow.get(transport);
        if (!flow || bytes !== flow.bytes) this.#flow.set(transport, { bytes, changedAt: now });
        if (!flow || bytes !== flow.bytes || now - flow.changedAt < STALL_MS) silent = false;
      }
      for (const transport of this.#flow.keys()) if (transport.closed) this.#flow.delete(transport);
      if (silent === this.#stalled) return;
      this.#stalled = silent;
      for (const transport of connected) {
        if (silent && !this.#iceRepair.get(transport)?.timer) this.#repairIce(transport);
        if (!silent) {
          clearTimeout(this.#iceRepair.get(transport)?.timer);
          this.#iceRepair.delete(transport);
        }
      }
      this.#updateReconnecting();
    } catch {
      // A transport closed during the check (media reset): the next check sees the new ones.
    } finally {
      this.#checkingFlow = false;
    }
  }

  /** Show "Reconnecting…" while signalling or media is down, and clear it once both work. */
  #updateReconnecting(): void {
    const mediaDown =
      this.#stalled ||
      [this.#sendTransport, this.#recvTransport].some((t) => t !== undefined && (t.connectionState === 'disconnected' || t.connectionState === 'failed'));
    const active = !this.#ended && (this.#resuming || this.#resetting !== undefined || mediaDown);
    if (active === this.#reconnectingShown) return;
    this.#reconnectingShown = active;
    this.#events.reconnecting(active);
  }

  #setUpTransports(send: ReplyData<'createTransport'>, recv: ReplyData<'createTransport'>): void {
    const ice = this.#ice;
    this.#sendTransport = this.#device.createSendTransport({ ...transportOptions(send), ...ice });
    this.#wireConnect(this.#sendTransport);
    this.#watchConnection(this.#sendTransport);
    this.#sendTransport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData.source as MediaSource;
      this.#signalling
        .request('produce', { transportId: send.id, kind, source, rtpParameters: { ...rtpParameters } })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });

    this.#recvTransport = this.#device.createRecvTransport({ ...transportOptions(recv), ...ice });
    this.#wireConnect(this.#recvTransport);
    this.#watchConnection(this.#recvTransport);
  }

  #wireConnect(transport: types.Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#signalling
        .request('connectTransport', { transportId: transport.id, dtlsParameters: { ...dtlsParameters } })
        .then(() => callback(), errback);
    });
  }

  async #onConsumerAdded(data: NotificationData<'consumerAdded'>): Promise<void> {
    const pending: { cancelled: boolean; paused?: boolean } = { cancelled: false };
    this.#pendingConsumers.set(data.consumerId, pending);
    let consumer: types.Consumer;
    // Pending until the track is known: a mute or close that arrives while the consumer is being
    // made must not be lost (an instructor's "mute all" then showed a student's mic as on).
    try {
      // During a media reset the new receive transport is still being made.
      await this.#recvReady;
      const transport = this.#recvTransport;
      if (!transport || pending.cancelled || transport.closed) return;
      consumer = await transport.consume({
        id: data.consumerId,
        producerId: data.producerId,
        kind: data.kind,
        // Produced by mediasoup on our own server; the protocol carries it as an opaque object.
        rtpParameters: data.rtpParameters as types.RtpParameters,
      });
    } finally {
      this.#pendingConsumers.delete(data.consumerId);
    }
    if (pending.cancelled) {
      consumer.close();
      return;
    }
    const remote = {
      consumerId: consumer.id,
      producerId: data.producerId,
      peerId: data.peerId,
      source: data.source,
      track: consumer.track,
      paused: pending.paused ?? data.producerPaused,
      consumer,
      // A stats tick can land just after the consumer closed (track removed, media reset): no
      // numbers then, instead of mediasoup-client's InvalidStateError.
      getStats: async () => (consumer.closed ? new Map() as RTCStatsReport : consumer.getStats()),
    };
    this.#tracks.set(consumer.id, remote);
    this.#events.trackAdded(remote);
    try {
      await this.#signalling.request('resumeConsumer', { consumerId: consumer.id });
    } catch (error) {
      // The server may close a consumer meanwhile (its sender left, or it made room under the
      // video cap after a page turn): its consumerClosed removes the tile; nothing failed here.
      if (!(error instanceof RequestError && error.code === 'not_found')) throw error;
    }
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
    if (!remote) {
      const pending = this.#pendingConsumers.get(consumerId);
      if (pending) pending.paused = paused;
      return;
    }
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Everything a transport has received so far (RTCTransportStats.bytesReceived). */
async function bytesReceived(transport: types.Transport): Promise<number> {
  let bytes = 0;
  (await transport.getStats()).forEach((stat: { type: string; bytesReceived?: number }) => {
    if (stat.type === 'transport') bytes += stat.bytesReceived ?? 0;
  });
  return bytes;
}

/**
 * Reconnect the socket with backoff until the server resumes the participant; returns its reply
 * (undefined if `stopped` became true first). Rejects with the server's `resume_failed` when it no
 * longer knows us; any other failure (unreachable, dropped again) is retried.
 */
async function resumeWithBackoff(
  signalling: Signalling,
  who: { room: string; peerId: string; secret: () => string },
  stopped: () => boolean,
  /** Called once when the server has not been reachable for `afterMs` (a cluster node that died). */
  unreachable?: { afterMs: number; then: () => void },
): Promise<ReplyData<'resume'> | undefined> {
  const since = Date.now();
  let told = false;
  for (let attempt = 0; !stopped(); attempt++) {
    const backoff = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** attempt);
    let wait = backoff * (0.5 + Math.random() / 2);
    // One attempt falls exactly when the cluster has surely dropped the server, so a page whose node
    // died leaves then, not up to a whole backoff step (4 s) later.
    const untilGone = unreachable && !told ? since + unreachable.afterMs - Date.now() : Infinity;
    if (untilGone > 0 && untilGone < wait) wait = untilGone;
    await sleep(wait);
    if (stopped()) return undefined;
    try {
      await signalling.reopen();
    } catch {
      if (unreachable && !told && Date.now() - since >= unreachable.afterMs) {
        told = true;
        unreachable.then();
      }
      continue;
    }
    try {
      return await signalling.request('resume', { room: who.room, peerId: who.peerId, secret: who.secret() });
    } catch (error) {
      if (error instanceof RequestError && error.code === 'resume_failed') throw error;
    }
  }
  return undefined;
}

// How many `moved` answers in a row a page follows before it stops and shows the error.
const MAX_MOVES = 3;

/**
 * The class is held by another server of the cluster (`moved`): the page goes to /moved/<room> on
 * its own origin, and this server redirects the browser to the home node (server/routes/movedRoom.ts).
 * The page never names another origin itself, so its code has no destination the audit cannot
 * establish. The room link's token and the name go along in the fragment (never sent to a server),
 * with the count of moves, so the page there joins by itself (main.ts).
 */
function followRedirect(
  error: unknown,
  options: { room: string; displayName: string; token?: string | undefined; moves?: number | undefined; onMoving?: ((to: string) => void) | undefined; avoid?: string | undefined },
): void {
  const { room, displayName, token } = options;
  if (!(error instanceof RequestError) || error.code !== 'moved') return;
  // Back from that node while it still holds the class: the person left it on purpose (Failover.ts).
  if (options.avoid !== undefined && error.redirect === options.avoid) return;
  const moves = (options.moves ?? 0) + 1;
  if (moves > MAX_MOVES) return;
  if (error.redirect !== undefined) options.onMoving?.(error.redirect);
  const fragment = new URLSearchParams({ ...(token ? { token } : {}), name: displayName, moved: String(moves) });
  location.assign(`/moved/${encodeURIComponent(room)}#${fragment.toString()}`);
}
