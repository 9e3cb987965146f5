// Joining a room and moving media, with no DOM: the UI (ui/) listens to what happens here.
// ICE servers come only from the server's join reply: the browser never contacts a STUN/TURN
// server the deployment did not configure (Jitsi and LiveKit fall back to public STUN).
import { Device, type types } from 'mediasoup-client';
import type { MediaSource, PeerInfo, NotificationData } from '../../protocol/index.js';
import { Signalling } from './Signalling.js';

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

/** What the UI hears from a RoomClient. */
export interface RoomClientEvents {
  peerJoined(peer: PeerInfo): void;
  peerLeft(peerId: string): void;
  trackAdded(track: RemoteTrack): void;
  trackRemoved(track: RemoteTrack): void;
  trackPaused(track: RemoteTrack, paused: boolean): void;
  disconnected(reason: string): void;
}

/** One participant's connection to one room. */
export class RoomClient {
  readonly #signalling: Signalling;
  readonly #device: Device;
  readonly #events: RoomClientEvents;
  readonly #tracks = new Map<string, RemoteTrack & { consumer: types.Consumer }>();
  readonly #producers = new Map<MediaSource, types.Producer>();
  #sendTransport: types.Transport | undefined;
  #recvTransport: types.Transport | undefined;
  /** This participant's id in the room. */
  readonly peerId: string;

  /** Connect, join, and set up both transports; `peers` are the people already in the room. */
  static async join(room: string, displayName: string, events: RoomClientEvents): Promise<{ client: RoomClient; peers: PeerInfo[] }> {
    const signalling = await Signalling.connect();
    try {
      const joined = await signalling.request('join', { room, displayName });
      const device = new Device();
      await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities as types.RtpCapabilities });
      const client = new RoomClient(signalling, device, joined.peerId, events);
      const ice = { iceServers: joined.iceServers as RTCIceServer[], iceTransportPolicy: joined.iceTransportPolicy };
      await client.#createTransports(ice);
      const { peers } = await signalling.request('ready', { rtpCapabilities: { ...device.rtpCapabilities } });
      return { client, peers };
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
    signalling.onclose = (reason) => events.disconnected(reason);
    signalling.on('peerJoined', ({ peer }) => events.peerJoined(peer));
    signalling.on('peerLeft', ({ peerId: id }) => events.peerLeft(id));
    signalling.on('consumerAdded', (data) => void this.#onConsumerAdded(data));
    signalling.on('consumerClosed', ({ consumerId }) => this.#removeTrack(consumerId));
    signalling.on('consumerPaused', ({ consumerId }) => this.#setPaused(consumerId, true));
    signalling.on('consumerResumed', ({ consumerId }) => this.#setPaused(consumerId, false));
    signalling.on('roomClosed', ({ reason }) => events.disconnected(reason));
  }

  /** Whether this browser can send video (some locked-down machines cannot). */
  get canSendVideo(): boolean {
    return this.#device.canProduce('video');
  }

  /** Start sending a camera or microphone track. */
  async publish(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    const transport = this.#sendTransport;
    if (!transport) throw new Error('not connected');
    const producer = await transport.produce({ track, appData: { source }, stopTracks: false });
    this.#producers.set(source, producer);
  }

  /** Mute or unmute one of my tracks (the server tells the others). */
  async setMuted(source: MediaSource, muted: boolean): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    if (muted) {
      producer.pause();
      await this.#signalling.request('pauseProducer', { producerId: producer.id });
    } else {
      producer.resume();
      await this.#signalling.request('resumeProducer', { producerId: producer.id });
    }
  }

  /** Whether I am sending this source. */
  isPublishing(source: MediaSource): boolean {
    return this.#producers.has(source);
  }

  /** Leave the room and release everything. */
  async leave(): Promise<void> {
    try {
      await this.#signalling.request('leave', {});
    } catch {
      // Leaving must work even if the connection already died.
    }
    this.#signalling.close();
    this.#sendTransport?.close();
    this.#recvTransport?.close();
  }

  async #createTransports(ice: { iceServers: RTCIceServer[]; iceTransportPolicy: RTCIceTransportPolicy }): Promise<void> {
    const send = await this.#signalling.request('createTransport', { direction: 'send' });
    this.#sendTransport = this.#device.createSendTransport({ ...(send as unknown as types.TransportOptions), ...ice });
    this.#wireConnect(this.#sendTransport);
    this.#sendTransport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData.source as MediaSource;
      this.#signalling
        .request('produce', { transportId: send.id, kind, source, rtpParameters: { ...rtpParameters } })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });

    const recv = await this.#signalling.request('createTransport', { direction: 'recv' });
    this.#recvTransport = this.#device.createRecvTransport({ ...(recv as unknown as types.TransportOptions), ...ice });
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
      rtpParameters: data.rtpParameters as unknown as types.RtpParameters,
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
